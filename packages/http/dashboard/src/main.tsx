/** Entry point: styles, the session check, and the app. */

import { render } from "preact";
import { App } from "./app.js";
import { checkSession } from "./state.js";
import "./styles.css";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
  void checkSession();
}
