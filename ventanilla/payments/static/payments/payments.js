// Shows the "Imprimir" buttons (they need JavaScript) and prints the page when pressed.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
