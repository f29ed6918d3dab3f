// Uploads: drop a customer file on the drop zone to send it, as if chosen with the file
// input (which keyboard users use; the form works without this script).
"use strict";
(function () {
  const zone = document.getElementById("drop-zone");
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  if (!zone || !form || !input) {
    return;
  }
  const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
  zone.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) {
      event.preventDefault(); // allows the drop
      zone.classList.add("upload-drop-over");
    }
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("upload-drop-over"));
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("upload-drop-over");
    if (!event.dataTransfer || event.dataTransfer.files.length === 0) {
      return;
    }
    event.preventDefault(); // the browser would otherwise open the file
    input.files = event.dataTransfer.files;
    form.requestSubmit();
  });
})();
