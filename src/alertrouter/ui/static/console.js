// The one script of the console: "select all" for the dead letters. Everything else is
// plain HTML forms, so the console works with scripts off.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll('#dead-letters input[name="id"]')) {
      box.checked = all.checked;
    }
  });
});
