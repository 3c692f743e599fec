//! For tests: a file checked against the `pain.001.001.09` schema by
//! libxml2's `xmllint` (apt `libxml2-utils`). The schema is the one the
//! PyPI package `sepaxml` 2.7.0 ships (`tests/data/README.md`), read from
//! the source tree. A missing validator panics: a file nobody checked must
//! not pass for checked.

use std::io::Write;
use std::process::{Command, Stdio};

/// The schema in the source tree.
pub const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/pain.001.001.09.xsd"
);

/// `xmllint`'s verdict on `xml`: Ok, or what it printed.
pub fn validate(xml: &str) -> Result<(), String> {
    let mut child = Command::new("xmllint")
        .args(["--noout", "--schema", SCHEMA, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("xmllint must be installed (apt libxml2-utils): {e}"));
    child
        .stdin
        .take()
        .expect("xmllint's input")
        .write_all(xml.as_bytes())
        .expect("xml to xmllint");
    let out = child.wait_with_output().expect("xmllint's verdict");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
