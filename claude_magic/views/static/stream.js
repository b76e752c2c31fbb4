// claude-magic's append-only stream view. The kernel renders and sanitizes (nh3); this file only places
// the HTML strings it receives (template/innerHTML) and never evaluates anything.
// Message: {s: seq, e: elapsed s, n: [frame html of new blocks], u: [[block, keep, text, seal]], l: [[block, label]]}
// with z (inflated bytes): the texts are the lengths of pieces of buffer 0, one raw-deflate stream per model;
// or a reset {s, r: [[frame, sealed, open, label]]}, which starts a new stream. A model that misses a
// message asks the kernel for a reset ({sync}).
const stores = new Map();

function inflater() {
  if (typeof DecompressionStream === "undefined") return null;
  const stream = new DecompressionStream("deflate-raw");
  return { writer: stream.writable.getWriter(), reader: stream.readable.getReader(), decoder: new TextDecoder() };
}

async function inflate(store, buffer, size) {
  const z = store.inflater;
  z.writer.write(new Uint8Array(buffer.buffer || buffer, buffer.byteOffset || 0, buffer.byteLength));
  let text = "";
  for (let got = 0; got < size;) {
    const { value, done } = await z.reader.read();
    if (done) throw new Error("stream ended");
    got += value.byteLength;
    text += z.decoder.decode(value, { stream: true });
  }
  return text;
}

async function apply(store, msg, buffers) {
  if (msg.r) {
    store.blocks = msg.r.map(([frame, sealed, open, label]) => ({ frame, sealed: sealed ? [sealed] : [], open, label }));
    store.inflater = inflater();
    store.gen += 1;
    store.stale = false;
  } else if (store.stale) {
    return false;                                  // waiting for the reset asked for
  } else if (msg.s !== store.seq + 1) {
    store.stale = true;
    return "sync";
  } else {
    let texts = null;
    if (msg.z !== undefined) {
      if (!store.inflater) { store.note = "This browser cannot inflate the stream: the answer shows when it ends."; return true; }
      texts = await inflate(store, buffers[0], msg.z);
    }
    for (const frame of msg.n || []) store.blocks.push({ frame, sealed: [], open: "", label: null });
    let at = 0;
    for (const [b, keep, piece, seal] of msg.u || []) {
      const text = texts === null ? piece : texts.slice(at, at += piece);
      const block = store.blocks[b];
      let open = block.open.slice(0, keep) + text;
      if (seal) { block.sealed.push(open.slice(0, seal)); open = open.slice(seal); }
      block.open = open;
    }
    for (const [b, label] of msg.l || []) store.blocks[b].label = label;
  }
  store.seq = msg.s;
  if (msg.e !== undefined) store.t0 = performance.now() / 1000 - msg.e;
  return true;
}

function initialize({ model }) {
  const key = model.get("key");
  const store = { blocks: [], seq: 0, gen: 0, stale: false, note: "", inflater: inflater(),
                  t0: performance.now() / 1000, views: new Set(), chain: Promise.resolve() };
  stores.set(key, store);
  model.on("msg:custom", (msg, buffers) => {
    store.chain = store.chain.then(async () => {
      const done = await apply(store, msg, buffers);
      if (done === "sync") model.send({ sync: store.seq });
      if (done) for (const view of store.views) view();
    }).catch((error) => { store.stale = true; model.send({ sync: store.seq }); console.warn("claude-magic stream", error); });
  });
  return () => stores.delete(key);
}

function render({ model, el }) {
  const store = stores.get(model.get("key"));
  const typesetter = model.widget_manager?._rendermime?.latexTypesetter;
  const typeset = (node) => { try { typesetter?.typeset(node); } catch (error) { /* math stays as text */ } };
  el.classList.add("claude-magic-stream", "jp-RenderedHTMLCommon");
  let shown = [];
  let gen = -1;
  const tick = () => {
    const seconds = `${Math.floor(performance.now() / 1000 - store.t0)} s`;
    for (const span of el.querySelectorAll(".claude-magic-elapsed")) span.textContent = seconds;
  };
  const paint = () => {
    if (gen !== store.gen) { el.textContent = ""; shown = []; gen = store.gen; }
    store.blocks.forEach((block, index) => {
      let view = shown[index];
      if (!view) {
        const holder = document.createElement("template");
        holder.innerHTML = block.frame;
        const root = holder.content.firstElementChild;
        el.appendChild(root);
        view = shown[index] = { root, tail: root.querySelector(".cm-tail") || root, sealed: 0, open: "", label: null };
      }
      for (; view.sealed < block.sealed.length; view.sealed += 1) {
        const piece = document.createElement("template");
        piece.innerHTML = block.sealed[view.sealed];
        const nodes = [...piece.content.children];
        view.tail.before(piece.content);
        nodes.forEach(typeset);
      }
      if (view.open !== block.open) { view.open = block.open; view.tail.innerHTML = block.open; typeset(view.tail); }
      if (block.label !== null && view.label !== block.label) {
        view.label = block.label;
        const summary = view.root.querySelector("summary");
        if (summary) summary.textContent = block.label;
      }
    });
    if (store.note && !el.querySelector(".cm-note")) {
      const note = document.createElement("div");
      note.className = "cm-note";
      note.textContent = store.note;
      el.appendChild(note);
    }
    tick();
  };
  store.views.add(paint);
  paint();
  const timer = setInterval(tick, 1000);
  return () => { store.views.delete(paint); clearInterval(timer); };
}

export default { initialize, render };
