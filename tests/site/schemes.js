document.getElementById("popup-file").addEventListener("click", () => window.open("file:///etc/passwd"));
document.getElementById("assign-file").addEventListener("click", () => { location.href = "file:///etc/passwd"; });
