import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import CustomerDisplay from "./components/CustomerDisplay.svelte";

// The same page serves the cashier's window and the customer display.
const root = location.hash === "#customer" ? CustomerDisplay : App;
const app = mount(root, { target: document.getElementById("app")! });

export default app;
