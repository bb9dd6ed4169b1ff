// The kiln demo page (served by `kiln serve <artifact>`): loads the artifact's model.js from artifact/ and runs it
// on navigator.gpu. What the page offers follows the artifact's manifest (see decideMode in lib.js): a prompt box
// with streamed tokens for decoders, a drawing canvas for image classifiers, and file inputs for anything else.
// Every result area carries data-state ('idle', 'running', 'done', 'error') so that automation can wait on it.
import {
  argmax,
  decideMode,
  drawingToInput,
  parseIds,
  preview,
  probabilities,
  rate,
  tokenizerJsonFilledIn,
  valuesFromFile,
  valuesFromJson,
} from './lib.js';

const $ = (id) => document.getElementById(id);
/** The URL of a path the server serves, relative to this page. */
const served = (path) => new URL(path, location.href).href;

function setStatus(text, state) {
  $('status').textContent = text;
  $('status').dataset.state = state;
}

function showError(e, area) {
  const message = e instanceof Error ? e.message : String(e);
  $('error').textContent = message;
  $('error').hidden = false;
  if (area) area.dataset.state = 'error';
  console.error(e);
}

const clearError = () => {
  $('error').hidden = true;
  $('error').textContent = '';
};

async function fetchJson(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

async function main() {
  const manifest = await fetchJson('artifact/manifest.json');
  const mode = decideMode(manifest);
  $('model-name').textContent = manifest.model.name;
  document.title = `${manifest.model.name} · kiln demo`;
  if (!navigator.gpu) {
    setStatus('this browser offers no WebGPU (navigator.gpu): try a recent Chrome or Edge, on localhost or https', 'error');
    return;
  }
  setStatus('loading the model…', 'loading');
  // URLs the server maps (to the artifact folder and the tokenizer library), not files beside this one.
  const { load } = await import(served('artifact/model.js'));
  const model = await load();
  addEventListener('pagehide', () => model.dispose());
  $('adapter').textContent = `adapter: ${model.session.adapterInfo}`;
  if (mode.kind === 'decoder') await setUpDecoder(model, mode);
  else if (mode.kind === 'classifier') setUpClassifier(model, mode);
  else setUpGeneric(model, mode);
  document.body.dataset.mode = mode.kind;
  setStatus(`ready (${mode.kind})`, 'ready');
}

// ---- decoders ----

/** Tokenizers.js on the artifact's tokenizer.json, adapted as kiln's Node tokenizer is (compiler/tokenizer.ts). */
async function loadTokenizer(file) {
  const { Tokenizer } = await import(served('vendor/tokenizers.mjs'));
  const json = tokenizerJsonFilledIn(await fetchJson(`artifact/${file}`));
  // No tokenizer_config.json ships with an artifact: no clean-up of spaces, as the Rust library does without one.
  const tokenizer = new Tokenizer(json, { clean_up_tokenization_spaces: false });
  return {
    encode: (text) => tokenizer.encode(text).ids,
    decode(ids) {
      const known = ids.filter((id) => tokenizer.id_to_token(id) !== undefined);
      return known.length ? tokenizer.decode(known, { skip_special_tokens: true }) : '';
    },
  };
}

async function setUpDecoder(model, mode) {
  $('decoder').hidden = false;
  const g = mode.generation;
  let tokenizer = null;
  if (mode.tokenizer) {
    try {
      tokenizer = await loadTokenizer(mode.tokenizer);
    } catch (e) {
      showError(new Error(`the tokenizer could not be loaded, so prompts are token ids: ${e.message}`));
    }
  }
  const kind = () => (tokenizer ? document.querySelector('input[name="prompt-kind"]:checked').value : 'ids');
  const showKind = () => {
    $('prompt-text-label').hidden = kind() !== 'text';
    $('prompt-ids-label').hidden = kind() !== 'ids';
  };
  if (tokenizer) {
    $('prompt-kind').hidden = false;
    for (const r of document.querySelectorAll('input[name="prompt-kind"]')) r.addEventListener('change', showKind);
  }
  showKind();
  $('prompt-ids').placeholder = `e.g. 1, 2, 3 (ids below ${g.vocabSize})`;
  $('max-new-tokens').max = String(g.maxSeq);
  $('max-new-tokens').value = String(Math.min(32, g.maxSeq));

  const area = $('generation');
  $('gen-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (area.dataset.state === 'running') return;
    clearError();
    const tokensOut = $('gen-tokens');
    const textOut = $('gen-text');
    tokensOut.replaceChildren();
    $('gen-prompt').replaceChildren();
    textOut.textContent = '';
    textOut.hidden = !tokenizer;
    $('gen-stats').textContent = '';
    area.dataset.state = 'running';
    $('generate').disabled = true;
    try {
      const ids = kind() === 'text' ? tokenizer.encode($('prompt-text').value) : parseIds($('prompt-ids').value);
      if (kind() === 'text') $('prompt-ids').value = ids.join(', ');
      $('gen-prompt').replaceChildren(...ids.map((id) => Object.assign(document.createElement('span'), { className: 'prompt', textContent: String(id) })));
      const temperature = Number($('temperature').value) || 0;
      const options = {
        maxNewTokens: Number($('max-new-tokens').value),
        ...(temperature > 0 ? { temperature, seed: Number($('seed').value) || 0 } : {}),
      };
      const tokens = [];
      const start = performance.now();
      let first = 0;
      const stats = () => {
        const now = performance.now();
        const decodeRate = tokens.length > 1 ? ` · ${rate(tokens.length - 1, now - first)} tokens/s` : '';
        return `${ids.length} prompt tokens · ${tokens.length} new · first after ${(first - start).toFixed(0)} ms${decodeRate}`;
      };
      const onToken = (token) => {
        if (tokens.length === 0) first = performance.now();
        tokens.push(token);
        const span = document.createElement('span');
        span.textContent = String(token);
        tokensOut.append(span);
        if (tokenizer) textOut.textContent = tokenizer.decode(tokens);
        $('gen-stats').textContent = stats();
      };
      await model.generate(ids, { ...options, onToken });
      const total = performance.now() - start;
      $('gen-stats').textContent = `${stats()} · ${rate(tokens.length, total)} tokens/s overall (${(total / 1000).toFixed(2)} s)`;
      area.dataset.state = 'done';
    } catch (e) {
      showError(e, area);
    } finally {
      $('generate').disabled = false;
    }
  });
}

// ---- image classifiers ----

function setUpClassifier(model, mode) {
  $('classifier').hidden = false;
  const { height, width, input, output } = mode;
  $('input-size').textContent = `(${input.name}: ${input.dtype}[${input.shape.join(', ')}])`;
  const draw = $('draw');
  const ctx = draw.getContext('2d', { willReadFrequently: true });
  const previewCanvas = $('preview');
  previewCanvas.width = width;
  previewCanvas.height = height;
  const area = $('result');
  let values = new Array(height * width).fill(0);

  const clearCanvas = () => {
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, draw.width, draw.height);
  };
  clearCanvas();

  function showInput() {
    const max = Math.max(...values.map(Math.abs), 1e-12);
    const image = new ImageData(width, height);
    values.forEach((v, i) => {
      const g = Math.round(255 * Math.min(1, Math.max(0, v / max)));
      image.data.set([g, g, g, 255], 4 * i);
    });
    previewCanvas.getContext('2d').putImageData(image, 0, 0);
  }

  async function classify() {
    clearError();
    area.dataset.state = 'running';
    try {
      const out = await model.run({ [input.name]: values });
      const scores = Array.from(out[output.name].data, Number);
      const { probs, softmax } = probabilities(scores);
      const best = argmax(probs);
      $('predicted-class').textContent = String(best);
      $('prob-note').textContent = softmax ? `softmax of ${output.name}` : `${output.name} (already probabilities)`;
      const rows = probs.map((p, c) => {
        const tr = document.createElement('tr');
        if (c === best) tr.className = 'best';
        const bar = document.createElement('div');
        bar.style.width = `${(100 * p).toFixed(1)}%`;
        const cells = [String(c), p.toFixed(6)].map((t) => Object.assign(document.createElement('td'), { textContent: t }));
        const barCell = Object.assign(document.createElement('td'), { className: 'bar' });
        barCell.append(bar);
        tr.append(...cells, barCell);
        return tr;
      });
      $('probs').tBodies[0].replaceChildren(...rows);
      area.dataset.state = 'done';
    } catch (e) {
      showError(e, area);
    }
  }

  function fromDrawing() {
    const rgba = ctx.getImageData(0, 0, draw.width, draw.height).data;
    const ink = new Float32Array(draw.width * draw.height);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i] / 255;
    values = drawingToInput(ink, draw.width, draw.height, height, width, { scale: Number($('ink-scale').value) });
    showInput();
  }

  let last = null;
  const at = (e) => {
    const r = draw.getBoundingClientRect();
    return [((e.clientX - r.left) * draw.width) / r.width, ((e.clientY - r.top) * draw.height) / r.height];
  };
  draw.addEventListener('pointerdown', (e) => {
    draw.setPointerCapture(e.pointerId);
    last = at(e);
  });
  draw.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = 'white';
    ctx.lineWidth = draw.width / 14;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  });
  const end = () => {
    if (!last) return;
    last = null;
    fromDrawing();
    classify();
  };
  draw.addEventListener('pointerup', end);
  draw.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => {
    clearCanvas();
    values = new Array(height * width).fill(0);
    showInput();
    $('predicted-class').textContent = '–';
    $('probs').tBodies[0].replaceChildren();
    area.dataset.state = 'idle';
  });
  $('classify').addEventListener('click', () => {
    fromDrawing();
    classify();
  });
  $('load-input').addEventListener('click', () => {
    clearError();
    try {
      const v = valuesFromJson($('input-json').value);
      if (v.length !== height * width) throw new Error(`the JSON holds ${v.length} values; ${input.name} needs ${height * width} (${height}×${width})`);
      values = v;
      showInput();
      // The loaded image, scaled up onto the drawing canvas (where it can be drawn over).
      clearCanvas();
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(previewCanvas, 0, 0, draw.width, draw.height);
      classify();
    } catch (e) {
      showError(e, area);
    }
  });
  showInput();
}

// ---- anything else ----

function setUpGeneric(model, mode) {
  $('generic').hidden = false;
  const count = (t) => t.shape.reduce((a, d) => a * (typeof d === 'number' ? d : NaN), 1);
  const fromFiles = new Map();
  const box = $('generic-inputs');
  for (const t of mode.inputs) {
    const row = document.createElement('div');
    row.className = 'input-row';
    row.dataset.input = t.name;
    const title = Object.assign(document.createElement('p'), { className: 'label', textContent: `${t.name}: ${t.dtype}[${t.shape.join(', ')}]` });
    const file = Object.assign(document.createElement('input'), { type: 'file', accept: '.npy,.json' });
    const note = Object.assign(document.createElement('span'), { className: 'stats' });
    const text = Object.assign(document.createElement('textarea'), { rows: 2, placeholder: 'or JSON: [1, 2, 3] or {"data": [...]}' });
    text.dataset.input = t.name;
    file.addEventListener('change', async () => {
      clearError();
      const f = file.files?.[0];
      if (!f) return;
      try {
        fromFiles.set(t.name, valuesFromFile(f.name, await f.arrayBuffer(), count(t)));
        text.value = '';
        note.textContent = ` ${f.name}: ${fromFiles.get(t.name).length} values`;
      } catch (e) {
        fromFiles.delete(t.name);
        showError(new Error(`${t.name}: ${e.message}`));
      }
    });
    row.append(title, file, note, text);
    box.append(row);
  }

  const area = $('generic-result');
  $('generic-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    area.dataset.state = 'running';
    try {
      const feeds = {};
      for (const t of mode.inputs) {
        const text = box.querySelector(`textarea[data-input="${CSS.escape(t.name)}"]`).value.trim();
        const values = text ? valuesFromJson(text) : fromFiles.get(t.name);
        if (!values) throw new Error(`give ${t.name} (${count(t)} values) as a .npy or .json file, or as JSON`);
        if (values.length !== count(t)) throw new Error(`${t.name}: ${values.length} values given; it needs ${count(t)}`);
        feeds[t.name] = values;
      }
      const start = performance.now();
      const out = await model.session.run(feeds, mode.entry);
      $('run-stats').textContent = `${mode.entry}: ${(performance.now() - start).toFixed(1)} ms`;
      const blocks = Object.entries(out).map(([name, o]) => {
        const div = document.createElement('div');
        div.dataset.output = name;
        div.append(
          Object.assign(document.createElement('p'), { className: 'label', textContent: `${name}: ${o.dtype}[${[...o.shape].join(', ')}]` }),
          Object.assign(document.createElement('pre'), { textContent: preview(o.data) }),
        );
        return div;
      });
      $('generic-outputs').replaceChildren(...blocks);
      area.dataset.state = 'done';
    } catch (e) {
      showError(e, area);
    }
  });
}

main().catch((e) => {
  setStatus('failed', 'error');
  showError(e);
});
