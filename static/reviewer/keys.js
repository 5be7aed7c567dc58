// One key presses one button: any visible element with data-key="x" is clicked
// when x is typed outside a text field. "?" opens the keys list where there is one.
(function () {
  "use strict";

  function typingIn(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null
      && !(target.type === "range");
  }

  function toggleKeys() {
    const dialog = document.getElementById("review-keys");
    if (!dialog) return false;
    if (dialog.open) dialog.close(); else dialog.showModal();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typingIn(event.target)) return;
    if (event.key === "?" && toggleKeys()) {
      event.preventDefault();
      return;
    }
    const dialog = document.getElementById("review-keys");
    if (dialog && dialog.open) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const button = Array.from(document.querySelectorAll("[data-key]")).find(
      (element) => element.dataset.key === key && element.offsetParent !== null
        && !element.disabled
    );
    if (button) {
      event.preventDefault();
      button.click();
    }
  });

  document.addEventListener("click", function (event) {
    const opener = event.target.closest('[data-key="?"]');
    if (opener) toggleKeys();
  });
})();
