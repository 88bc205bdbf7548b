// The few things Blazor cannot do from the server.
window.ariadne = {
    copy: async (text) => {
        try {
            await navigator.clipboard.writeText(text);
            return true;
        } catch {
            return false;
        }
    },
    // The waterfall renders only the rows in view (Virtualize): a row far down exists once it is scrolled to.
    scrollToRow: (id, row, rowHeight) => {
        const list = document.getElementById(id);
        if (!list || row < 0) return;
        const top = row * rowHeight;
        if (top < list.scrollTop || top + rowHeight > list.scrollTop + list.clientHeight) {
            list.scrollTop = Math.max(0, top - list.clientHeight / 2);
        }
    },
};

// Times: the server renders them in UTC (it cannot know the viewer's zone); here they are shown in the browser's
// zone, or in UTC when the viewer chose so with the switch in the top bar (the choice is kept in localStorage). Only
// the text node's value changes, never the node, so Blazor keeps updating the node it rendered; each update (or new
// element) is seen by the observer and shown in the chosen zone again.
(() => {
    const storageKey = "ariadne.timeZone";
    const read = () => {
        try {
            return localStorage.getItem(storageKey) === "utc" ? "utc" : "local";
        } catch {
            return "local"; // storage refused (privacy settings): local time, not remembered
        }
    };
    let choice = read();
    const pad = (n, width = 2) => String(n).padStart(width, "0");
    const zone = (date) => {
        const minutes = -date.getTimezoneOffset();
        if (minutes === 0) return "UTC";
        const sign = minutes > 0 ? "+" : "-";
        const abs = Math.abs(minutes);
        return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
    };
    const format = (date, style, utc) => {
        // The UTC getters of a Date are its local getters in a zone without offset.
        const [y, mo, d, h, mi, s, ms] = utc
            ? [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()]
            : [date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds()];
        const time = `${pad(h)}:${pad(mi)}:${pad(s)}`;
        if (style === "short") return time;
        return `${y}-${pad(mo + 1)}-${pad(d)} ${time}.${pad(ms, 3)} ${utc ? "UTC" : zone(date)}`;
    };
    const localise = (element) => {
        const date = new Date(element.dataset.utc);
        const text = element.firstChild;
        if (isNaN(date) || !text || text.nodeType !== Node.TEXT_NODE) return;
        const shown = format(date, element.dataset.format, choice === "utc");
        if (text.nodeValue !== shown) text.nodeValue = shown;
        // The tooltip gives the other zone.
        if (element.dataset.format === "full") {
            const other = format(date, "full", choice !== "utc");
            if (element.title !== other) element.title = other;
        }
    };
    // The Search page's custom range: a visible datetime-local input in the chosen zone (data-utc holds its UTC value)
    // for each hidden input Blazor binds in UTC (data-utc-input names it). A value the viewer types is converted to
    // UTC and handed to the hidden input as a change event, so the server keeps the one source of the form's state.
    const shownInputs = new WeakMap();
    const inputText = (date, utc) => format(date, "full", utc).slice(0, 19).replace(" ", "T");
    const zonedInput = (input) => {
        const date = new Date(`${input.dataset.utc}Z`);
        if (isNaN(date)) return;
        const key = `${input.dataset.utc}|${choice}`;
        if (shownInputs.get(input) === key) return; // already shown: leave what the viewer is typing alone
        shownInputs.set(input, key);
        input.value = inputText(date, choice === "utc");
        const name = input.closest("label")?.querySelector(".time-zone-name")?.firstChild;
        const shownZone = choice === "utc" ? "UTC" : zone(date);
        if (name && name.nodeType === Node.TEXT_NODE && name.nodeValue !== shownZone) name.nodeValue = shownZone;
    };
    document.addEventListener("change", (event) => {
        const input = event.target;
        if (!input.matches?.("input.zoned-time")) return;
        const hidden = document.getElementById(input.dataset.utcInput);
        const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(input.value);
        if (!hidden || !parts) return;
        const [y, mo, d, h, mi, s] = parts.slice(1).map((p) => Number(p ?? 0));
        const date = choice === "utc" ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
        hidden.value = inputText(date, true);
        hidden.dispatchEvent(new Event("change", { bubbles: true }));
    });
    const showChoice = (root) => {
        root.querySelectorAll("[data-time-zone-choice]").forEach((button) => {
            const pressed = String(button.dataset.timeZoneChoice === choice);
            if (button.getAttribute("aria-pressed") !== pressed) button.setAttribute("aria-pressed", pressed);
        });
    };
    const scan = (root) => {
        if (root.nodeType !== Node.ELEMENT_NODE) return;
        if (root.matches(".local-time")) localise(root);
        root.querySelectorAll(".local-time").forEach(localise);
        if (root.matches("input.zoned-time")) zonedInput(root);
        root.querySelectorAll("input.zoned-time").forEach(zonedInput);
        showChoice(root);
    };
    const choose = (value) => {
        choice = value === "utc" ? "utc" : "local";
        document.documentElement.dataset.timeZone = choice;
        scan(document.documentElement);
    };
    document.addEventListener("click", (event) => {
        const button = event.target.closest?.("[data-time-zone-choice]");
        if (!button) return;
        try {
            localStorage.setItem(storageKey, button.dataset.timeZoneChoice);
        } catch {
            // not remembered, still applied to this page
        }
        choose(button.dataset.timeZoneChoice);
    });
    // Another tab switched: follow it.
    window.addEventListener("storage", (event) => {
        if (event.key === storageKey) choose(read());
    });
    new MutationObserver((mutations) => {
        for (const mutation of mutations) {
            const target = mutation.type === "characterData" ? mutation.target.parentElement : mutation.target;
            if (target?.closest?.(".local-time")) localise(target.closest(".local-time"));
            if (target?.matches?.("input.zoned-time")) zonedInput(target);
            mutation.addedNodes.forEach(scan);
        }
    }).observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-utc"] });
    choose(choice);
})();

// Drag across the minimap to zoom the waterfall to that part of the trace: the choice goes to the page through its
// zoom sliders (#zoom-from, #zoom-to), which Blazor binds, so the server keeps the one source of the view's state.
(() => {
    let drag = null;
    const fraction = (svg, clientX) => {
        const box = svg.getBoundingClientRect();
        return Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    };
    const setSlider = (id, value) => {
        const slider = document.getElementById(id);
        if (!slider) return;
        slider.value = String(value);
        slider.dispatchEvent(new Event("input", { bubbles: true }));
    };
    document.addEventListener("pointerdown", (event) => {
        const svg = event.target.closest?.("svg.minimap");
        if (!svg || event.button !== 0) return;
        const box = svg.getBoundingClientRect();
        const band = document.createElement("div");
        band.className = "minimap-selection";
        Object.assign(band.style, { top: `${box.top + window.scrollY}px`, height: `${box.height}px`, left: `${event.clientX + window.scrollX}px`, width: "0px" });
        document.body.appendChild(band);
        drag = { svg, band, start: fraction(svg, event.clientX), startX: event.clientX };
        event.preventDefault();
    });
    document.addEventListener("pointermove", (event) => {
        if (!drag) return;
        const box = drag.svg.getBoundingClientRect();
        const x = Math.min(box.right, Math.max(box.left, event.clientX));
        drag.band.style.left = `${Math.min(x, drag.startX) + window.scrollX}px`;
        drag.band.style.width = `${Math.abs(x - drag.startX)}px`;
    });
    document.addEventListener("pointerup", (event) => {
        if (!drag) return;
        const { svg, band, start } = drag;
        drag = null;
        band.remove();
        const end = fraction(svg, event.clientX);
        const from = Math.round(Math.min(start, end) * 1000);
        const to = Math.round(Math.max(start, end) * 1000);
        if (to - from < 2) return; // a click, not a drag
        // The page keeps from < to at every step: move the bound that does not cross the other first.
        const current = Number(document.getElementById("zoom-to")?.value ?? 1000);
        if (from >= current) {
            setSlider("zoom-to", to);
            setSlider("zoom-from", Math.min(from, 999));
        } else {
            setSlider("zoom-from", Math.min(from, 999));
            setSlider("zoom-to", Math.max(to, 1));
        }
    });
})();
