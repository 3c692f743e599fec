//! The test command keeps the build cache it shares between clones under a
//! size (`scripts/cap-target.sh`, called by `scripts/test.sh`): emptied
//! above the cap, untouched below it.

use std::path::Path;
use std::process::Command;

fn cap(dir: &Path, gib: u32) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cap-target.sh");
    let status = Command::new(script)
        .arg(dir)
        .arg(gib.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_build_cache_above_its_cap_is_emptied_and_one_below_kept() {
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cache.path().join("debug/deps")).unwrap();
    std::fs::write(cache.path().join("debug/deps/libx.rlib"), [7u8; 4096]).unwrap();
    std::fs::write(cache.path().join("CACHEDIR.TAG"), "Signature").unwrap();

    // du counts whole GiB, rounded up: this cache holds 1.
    cap(cache.path(), 1);
    assert!(cache.path().join("debug/deps/libx.rlib").exists());

    cap(cache.path(), 0);
    assert!(cache.path().is_dir(), "the directory itself stays");
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);

    // No cache yet: nothing to do.
    cap(&cache.path().join("not-there"), 0);
}
