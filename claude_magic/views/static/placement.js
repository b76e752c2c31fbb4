// claude-magic: where did the chat panel land? The page looks for the panel's element and tells the kernel
// "side" (inside JupyterLab's side area), "cell" (shown, but in the cell: no side area here) or "none"
// (not shown within the time limit: the front end could not draw the side area). It shows one line of text.
function render({ model, el }) {
  const line = document.createElement("div");
  line.className = "claude-magic-placement";
  line.style.opacity = "0.75";
  el.appendChild(line);
  const show = () => { line.textContent = model.get("message"); };
  model.on("change:message", show);
  show();
  const target = model.get("target");
  const started = performance.now();
  let timer = null;
  const look = () => {
    const found = document.querySelector(`.${target}`);
    const waited = performance.now() - started;
    if (found && found.closest(".jupyterlab-sidecar")) { model.send({ placed: "side" }); return; }
    if (found && found.isConnected && waited > 1500) { model.send({ placed: "cell" }); return; }
    if (waited > model.get("timeout")) { model.send({ placed: "none" }); return; }
    timer = setTimeout(look, 200);
  };
  timer = setTimeout(look, 200);
  return () => clearTimeout(timer);
}

export default { render };
