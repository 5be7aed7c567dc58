// The review card's editor. Object detection: draws the model's boxes over the
// image and lets the annotator select, move, resize, retag, draw and delete them.
// Classification: picks the image's tags. Either way it keeps the form's hidden
// labels field equal to what is on screen, so Accept sends exactly that.
(function () {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const STEP = 0.005;
  const BIG_STEP = 0.05;
  const MIN_SIZE = 0.005;
  const DRAG_PIXELS = 4; // a press that moves less than this is a click
  const HANDLE_PIXELS = 10;
  const CAPTION_PIXELS = 18;
  const HISTORY_LIMIT = 200;
  const COLOURS = [
    "#d7263d", "#1b998b", "#2e6fd8", "#e8590c", "#8e44ad",
    "#2d6a4f", "#c2185b", "#9c7a00", "#6d4c41", "#34495e",
  ];
  const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
  const ARROWS = {
    ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1],
  };

  let editor = null;
  let stickyTag = null; // the tag for new boxes, kept from card to card

  // Box geometry, in fractions of the image: [left, top, width, height].

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  function round(value) {
    return Math.round(value * 1e6) / 1e6;
  }

  function inside([left, top, width, height]) {
    width = clamp(round(width), MIN_SIZE, 1);
    height = clamp(round(height), MIN_SIZE, 1);
    return [clamp(round(left), 0, 1 - width), clamp(round(top), 0, 1 - height), width, height];
  }

  function moved([left, top, width, height], dx, dy) {
    return inside([left + dx, top + dy, width, height]);
  }

  // Moves the edges a handle names ("n", "se", ...) and never lets a box turn over.
  function resized([left, top, width, height], handle, dx, dy) {
    let right = left + width;
    let bottom = top + height;
    if (handle.includes("w")) left = clamp(left + dx, 0, right - MIN_SIZE);
    if (handle.includes("e")) right = clamp(right + dx, left + MIN_SIZE, 1);
    if (handle.includes("n")) top = clamp(top + dy, 0, bottom - MIN_SIZE);
    if (handle.includes("s")) bottom = clamp(bottom + dy, top + MIN_SIZE, 1);
    return inside([left, top, right - left, bottom - top]);
  }

  function spanning(a, b) {
    return [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(a.x - b.x), Math.abs(a.y - b.y)];
  }

  function svg(name, attributes) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    return node;
  }

  function inTextField(target) {
    return target instanceof Element && target.type !== "range"
      && target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function createEditor(card, data) {
    const stage = card.querySelector("#review-stage");
    const image = card.querySelector("#review-image");
    const overlay = card.querySelector("#review-overlay");
    const slider = card.querySelector("#review-threshold");
    const sliderValue = card.querySelector("#review-threshold-value");
    const labelsField = card.querySelector("#review-labels");
    const status = card.querySelector("#review-status");
    const choices = Array.from(card.querySelectorAll(".tag-choice"));
    const rows = Array.from(card.querySelectorAll("#review-labels-table tr[data-source]"));
    const detection = data.kind === "object_detection";
    const storageKey = `reviewer.threshold.${card.dataset.project}`;
    const tags = new Map(data.tags.map((tag, index) =>
      [tag.id, { ...tag, colour: COLOURS[index % COLOURS.length] }]));
    const predicted = new Map(data.labels.map((label) => [label.source, label]));

    let nextId = 1;
    let threshold = storedThreshold();
    let items = startingItems();
    let selected = null;
    let currentTag = usableForBox(stickyTag) ? stickyTag : firstTagForBoxes();
    let drag = null;
    const undoStack = [];
    let redoStack = [];
    let mergeKey = null;
    let sliderByPointer = false;

    // What the server filled in, plus (for boxes) the predictions it left out
    // only because of the threshold, so lowering the slider brings them back.
    function startingItems() {
      let start;
      try {
        start = JSON.parse(labelsField.value) || [];
      } catch {
        start = [];
      }
      const kept = new Set(start.map((label) => label.source));
      const below = detection ? data.labels.filter((label) => !kept.has(label.source)
        && label.box && label.probability < data.threshold && usableForBox(label.tag)) : [];
      return start.concat(below).map((label) => makeItem(label.tag, label.source, label.box));
    }

    function makeItem(tag, source, box) {
      const probability = predicted.get(source)?.probability ?? null;
      return { id: nextId++, tag, source, box: box ? box.slice() : null, probability };
    }

    function storedThreshold() {
      let stored = null;
      try {
        stored = localStorage.getItem(storageKey);
      } catch {
        // Storage can be refused (private windows); the project default will do.
      }
      const value = stored === null ? NaN : Number(stored);
      return value >= 0 && value <= 1 ? value : data.threshold;
    }

    function usableForBox(tagId) {
      const tag = tags.get(tagId);
      return Boolean(tag) && !tag.removed && tag.type !== "Negative";
    }

    function firstTagForBoxes() {
      return data.tags.find((tag) => usableForBox(tag.id))?.id ?? null;
    }

    function tagName(tagId) {
      return tags.get(tagId)?.name ?? "unknown tag";
    }

    function colourOf(tagId) {
      return tags.get(tagId)?.colour ?? COLOURS[0];
    }

    function isShown(item) {
      return !detection || item.probability === null || item.probability >= threshold;
    }

    function selectedItem() {
      return items.find((item) => item.id === selected) ?? null;
    }

    // History keeps whole copies of the list: small, and an undo never half-applies.

    function snapshot() {
      return items.map((item) => ({ ...item, box: item.box && item.box.slice() }));
    }

    function remember(before) {
      undoStack.push(before);
      if (undoStack.length > HISTORY_LIMIT) undoStack.shift();
      redoStack = [];
      mergeKey = null;
    }

    // A run of presses of the same kind on one box (same merge) undoes as one step.
    function edit(change, merge) {
      if (!merge || merge !== mergeKey) remember(snapshot());
      mergeKey = merge ?? null;
      change();
      update();
    }

    function travel(from, to) {
      if (!from.length) return;
      to.push(snapshot());
      items = from.pop();
      mergeKey = null;
      update();
    }

    function select(id) {
      selected = id;
      mergeKey = null;
      update();
    }

    function update() {
      if (!selectedItem() || !isShown(selectedItem())) selected = null;
      labelsField.value = JSON.stringify(items.filter(isShown).map((item) =>
        ({ tag: item.tag, source: item.source, box: item.box })));
      draw();
      refreshSide();
    }

    // A tag retags the selected box and becomes the tag for new ones; in
    // classification it is picked (multiclass) or toggled (multilabel).

    function choose(tagId) {
      return detection ? chooseForBox(tagId) : chooseForImage(tagId);
    }

    function chooseForBox(tagId) {
      if (!usableForBox(tagId)) return false;
      currentTag = stickyTag = tagId;
      const item = selectedItem();
      if (item && item.tag !== tagId) edit(() => { item.tag = tagId; });
      else refreshSide();
      return true;
    }

    function chooseForImage(tagId) {
      const tag = tags.get(tagId);
      if (!tag || tag.removed) return false;
      const chosen = items.some((item) => item.tag === tagId);
      const fresh = () => makeItem(tagId, sourceFor(tagId), null);
      if (data.kind === "multiclass") {
        if (!chosen || items.length > 1) edit(() => { items = [fresh()]; });
      } else if (chosen) {
        edit(() => { items = items.filter((item) => item.tag !== tagId); });
      } else {
        // A negative tag says "nothing here", so it never goes with another tag.
        const negative = tag.type === "Negative";
        edit(() => {
          items = items.filter((item) => !negative && tags.get(item.tag)?.type !== "Negative");
          items.push(fresh());
        });
      }
      return true;
    }

    function sourceFor(tagId) {
      return data.labels.find((label) => label.tag === tagId)?.source ?? null;
    }

    // Visible boxes, least confident first, then the ones the annotator added.
    function tabOrder() {
      const rank = (item) => item.probability ?? Infinity;
      return items.filter(isShown).sort((a, b) => rank(a) - rank(b) || a.id - b.id);
    }

    // Past either end the selection clears and Tab moves focus on as usual.
    function cycle(backwards) {
      const order = tabOrder();
      const at = order.findIndex((item) => item.id === selected);
      const next = at === -1 ? (backwards ? order.length - 1 : 0) : at + (backwards ? -1 : 1);
      if (next >= 0 && next < order.length) {
        select(order[next].id);
        return true;
      }
      if (selected !== null) select(null);
      return false;
    }

    function arrow(item, event) {
      const [x, y] = ARROWS[event.key];
      const step = event.shiftKey ? BIG_STEP : STEP;
      const change = event.altKey
        ? () => { item.box = resized(item.box, x ? "e" : "s", x * step, y * step); }
        : () => { item.box = moved(item.box, x * step, y * step); };
      edit(change, `${event.altKey ? "size" : "move"}${item.id}`);
    }

    // Keys arrive in the capture phase, before keys.js, which skips what is
    // handled here (defaultPrevented), so one key never does two things.

    function onKey(event) {
      if (document.getElementById("review-keys")?.open || inTextField(event.target)) return;
      if (takeKey(event)) event.preventDefault();
    }

    function takeKey(event) {
      const key = event.key;
      const command = event.ctrlKey || event.metaKey;
      if (drag) return key === "Escape" && cancelDrag();
      if (command && !event.altKey && /^[zy]$/i.test(key)) {
        if (key.toLowerCase() === "z" && !event.shiftKey) travel(undoStack, redoStack);
        else travel(redoStack, undoStack);
        return true;
      }
      if (command) return false;
      if (/^[0-9]$/.test(key)) {
        const tag = data.tags.find((each) => each.key === key);
        return !event.altKey && Boolean(tag) && choose(tag.id);
      }
      if (key === "Escape") return escape(event.target);
      if (!detection) return false;
      if (key === "Tab") return !event.altKey && onStage(event.target) && cycle(event.shiftKey);

      const item = selectedItem();
      if (!item) return false;
      if (key === "Delete" || key === "Backspace") {
        edit(() => { items = items.filter((each) => each !== item); });
        return true;
      }
      // A focused slider keeps its own arrows.
      if (!(key in ARROWS) || event.target.closest("input, select, textarea")) return false;
      arrow(item, event);
      return true;
    }

    function escape(target) {
      if (selected !== null) select(null);
      else if (!onStage(target)) focusHome();
      else return false;
      return true;
    }

    function onStage(target) {
      return target === stage || target === document.body
        || target === document.documentElement || overlay.contains(target);
    }

    // Where keys go after the mouse used a control, so the keyboard flow goes on.
    function focusHome() {
      if (detection) stage.focus({ preventScroll: true });
      else if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    }

    // Mouse: a press on a handle resizes, on a box moves it, on empty image draws.

    function pointAt(event) {
      const rect = image.getBoundingClientRect();
      return {
        x: clamp((event.clientX - rect.left) / rect.width, 0, 1),
        y: clamp((event.clientY - rect.top) / rect.height, 0, 1),
      };
    }

    function onPointerDown(event) {
      if (event.button !== 0 || !image.clientWidth) return;
      event.preventDefault();
      focusHome();
      const handle = event.target.closest("[data-handle]");
      const id = Number(event.target.closest(".region")?.dataset.id);
      const item = items.find((each) => each.id === id) ?? null;
      drag = {
        mode: item ? (handle ? "resize" : "move") : "draw",
        handle: handle?.dataset.handle,
        item,
        box: item?.box.slice(),
        start: pointAt(event),
        from: [event.clientX, event.clientY],
        before: snapshot(),
        moved: false,
        sketch: null,
      };
      overlay.setPointerCapture(event.pointerId);
      if (item && item.id !== selected) select(item.id);
    }

    function onPointerMove(event) {
      if (!drag) return;
      const distance = Math.hypot(event.clientX - drag.from[0], event.clientY - drag.from[1]);
      if (!drag.moved && distance < DRAG_PIXELS) return;
      drag.moved = true;
      const point = pointAt(event);
      const dx = point.x - drag.start.x;
      const dy = point.y - drag.start.y;
      if (drag.mode === "move") drag.item.box = moved(drag.box, dx, dy);
      else if (drag.mode === "resize") drag.item.box = resized(drag.box, drag.handle, dx, dy);
      else drag.sketch = spanning(drag.start, point);
      draw();
    }

    function onPointerUp() {
      if (!drag) return;
      const done = drag;
      drag = null;
      if (!done.moved) {
        if (done.mode === "draw") select(null);
        return;
      }
      const [, , width, height] = done.sketch ?? [];
      if (done.mode !== "draw") {
        remember(done.before);
      } else if (currentTag && width >= MIN_SIZE && height >= MIN_SIZE) {
        remember(done.before);
        const item = makeItem(currentTag, null, inside(done.sketch));
        items.push(item);
        selected = item.id;
      }
      update();
    }

    function cancelDrag() {
      if (drag?.moved && drag.mode !== "draw") items = drag.before;
      drag = null;
      update();
      return true;
    }

    // Drawing. The overlay covers the stage; boxes are placed in image pixels.

    function layout() {
      if (!image.naturalWidth) return;
      const top = stage.getBoundingClientRect().top + window.scrollY;
      const tallest = Math.max(240, window.innerHeight - top - 24);
      const scale = Math.min(stage.clientWidth / image.naturalWidth,
        tallest / image.naturalHeight);
      image.style.width = `${Math.floor(image.naturalWidth * scale)}px`;
      image.style.height = `${Math.floor(image.naturalHeight * scale)}px`;
      draw();
    }

    function draw() {
      if (!detection) return;
      const width = image.clientWidth;
      const height = image.clientHeight;
      const root = svg("g", { transform: `translate(${image.offsetLeft} ${image.offsetTop})` });
      overlay.replaceChildren(root);
      overlay.classList.toggle("has-selection", selected !== null);
      if (!width || !image.naturalWidth) return;

      // Big boxes first so small ones on top stay clickable; the selected one last.
      const area = (item) => item.box[2] * item.box[3];
      const shown = items.filter(isShown).sort((a, b) =>
        (a.id === selected) - (b.id === selected) || area(b) - area(a));
      for (const item of shown) drawItem(root, item, width, height);
      if (drag?.sketch) {
        const [left, top, w, h] = drag.sketch;
        const sketch = svg("rect", {
          class: "region-sketch",
          x: left * width, y: top * height, width: w * width, height: h * height,
        });
        sketch.style.setProperty("--tag-colour", colourOf(currentTag));
        root.append(sketch);
      }
    }

    function drawItem(root, item, width, height) {
      const [left, top, w, h] = item.box;
      const [x, y] = [left * width, top * height];
      const group = svg("g", {
        class: item.id === selected ? "region is-selected" : "region",
        "data-id": item.id,
        "data-tag": item.tag,
        "data-source": item.source ?? "added",
      });
      group.style.setProperty("--tag-colour", colourOf(item.tag));
      group.append(svg("rect", {
        class: "region-box", x, y, width: w * width, height: h * height,
      }));
      root.append(group);
      drawCaption(group, captionOf(item), x, y, width);
      if (item.id === selected) drawHandles(group, x, y, w * width, h * height);
    }

    // Above the box when there is room, inside it at the image's top edge.
    function drawCaption(group, words, x, y, imageWidth) {
      const top = y >= CAPTION_PIXELS ? y - CAPTION_PIXELS : y;
      const background = svg("rect", { y: top, height: CAPTION_PIXELS, rx: 2 });
      const text = svg("text", { y: top + 13 });
      text.textContent = words;
      const caption = svg("g", { class: "region-caption" });
      caption.append(background, text);
      group.append(caption);
      const wide = text.getComputedTextLength() + 10;
      const start = x + Math.min(0, imageWidth - (x + wide));
      background.setAttribute("x", start);
      background.setAttribute("width", wide);
      text.setAttribute("x", start + 5);
    }

    function drawHandles(group, x, y, w, h) {
      for (const name of HANDLES) {
        const cx = name.includes("w") ? x : name.includes("e") ? x + w : x + w / 2;
        const cy = name.includes("n") ? y : name.includes("s") ? y + h : y + h / 2;
        group.append(svg("rect", {
          class: `region-handle handle-${name}`,
          "data-handle": name,
          x: cx - HANDLE_PIXELS / 2,
          y: cy - HANDLE_PIXELS / 2,
          width: HANDLE_PIXELS,
          height: HANDLE_PIXELS,
        }));
      }
    }

    function captionOf(item) {
      const name = tagName(item.tag);
      if (item.probability === null) return `${name} added`;
      const score = item.probability.toFixed(2);
      const origin = predicted.get(item.source);
      return origin.tag === item.tag ? `${name} ${score}`
        : `${name} (was ${tagName(origin.tag)} ${score})`;
    }

    // The side panel: picker state, predicted rows, and a one-line summary.

    function refreshSide() {
      const chosen = new Set(items.map((item) => item.tag));
      const kept = new Set(items.map((item) => String(item.source)));
      const item = selectedItem();
      for (const button of choices) {
        const tagId = button.dataset.tag;
        const pressed = detection ? tagId === currentTag : chosen.has(tagId);
        button.setAttribute("aria-pressed", String(pressed));
        button.classList.toggle("is-box-tag", item?.tag === tagId);
      }
      for (const row of rows) {
        const label = predicted.get(Number(row.dataset.source));
        row.hidden = label?.probability < threshold;
        row.classList.toggle("is-selected", String(item?.source) === row.dataset.source);
        row.classList.toggle("is-dropped", detection && !kept.has(row.dataset.source));
        row.classList.toggle("is-chosen", !detection && chosen.has(label?.tag));
      }
      // Only real changes, so a screen reader does not repeat itself on every nudge.
      const line = summary();
      if (status && status.textContent !== line) status.textContent = line;
    }

    function summary() {
      if (!detection) {
        const names = items.map((item) => tagName(item.tag)).join(", ");
        return names ? `Chosen: ${names}` : "No tag chosen";
      }
      const shown = items.filter(isShown).length;
      const parts = [`${shown} ${shown === 1 ? "box" : "boxes"}`];
      const hidden = items.length - shown;
      if (hidden) parts.push(`${hidden} below ${threshold.toFixed(2)}`);
      const item = selectedItem();
      if (item) parts.push(`Selected: ${captionOf(item)}`);
      else if (currentTag) parts.push(`New boxes: ${tagName(currentTag)}`);
      return parts.join(" · ");
    }

    function onThreshold() {
      threshold = Number(slider.value);
      sliderValue.value = threshold.toFixed(2);
      try {
        localStorage.setItem(storageKey, String(threshold));
      } catch {
        // Storage can be refused; the slider still works on this card.
      }
      update();
    }

    function onSliderReleased() {
      if (!sliderByPointer) return;
      sliderByPointer = false;
      focusHome();
    }

    function onChoice(event) {
      const button = event.target.closest(".tag-choice");
      if (!button) return;
      choose(button.dataset.tag);
      if (event.detail > 0) focusHome(); // a mouse click, not Enter or Space
    }

    // Classification shows the model's confidence on each tag's button.
    function dressChoices() {
      for (const button of choices) {
        const tagId = button.dataset.tag;
        button.style.setProperty("--tag-colour", colourOf(tagId));
        if (detection) {
          button.hidden = !usableForBox(tagId);
        } else if (sourceFor(tagId) !== null) {
          const score = document.createElement("span");
          score.className = "tag-score";
          score.textContent = predicted.get(sourceFor(tagId)).probability.toFixed(2);
          button.append(score);
        }
      }
    }

    // Wiring. Listeners on the card's own elements go away with the card.

    dressChoices();
    card.querySelector("#review-tags").addEventListener("click", onChoice);
    slider.addEventListener("input", onThreshold);
    slider.addEventListener("pointerdown", () => { sliderByPointer = true; });
    slider.addEventListener("pointerup", onSliderReleased);
    slider.addEventListener("change", onSliderReleased);
    if (detection) {
      overlay.addEventListener("pointerdown", onPointerDown);
      overlay.addEventListener("pointermove", onPointerMove);
      overlay.addEventListener("pointerup", onPointerUp);
      overlay.addEventListener("pointercancel", cancelDrag);
    }
    image.addEventListener("load", layout);
    const watcher = new ResizeObserver(layout);
    watcher.observe(stage);

    slider.value = String(threshold);
    sliderValue.value = threshold.toFixed(2);
    update();
    if (image.complete) layout();
    if (document.activeElement === document.body) focusHome();

    return {
      card,
      onKey,
      layout,
      destroy() {
        watcher.disconnect();
        drag = null;
      },
    };
  }

  function start() {
    const card = document.getElementById("review-card");
    if (editor && editor.card === card) return;
    editor?.destroy();
    const source = card?.querySelector("#review-data");
    editor = source ? createEditor(card, JSON.parse(source.textContent)) : null;
  }

  // Document-level listeners are bound once and talk to whichever card is current.
  document.addEventListener("keydown", (event) => editor?.onKey(event), true);
  window.addEventListener("resize", () => editor?.layout());
  document.addEventListener("htmx:load", (event) => {
    const loaded = event.target;
    if (loaded.id === "review-card" || loaded.querySelector?.("#review-card")) start();
  });
  document.addEventListener("htmx:historyRestore", start);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
