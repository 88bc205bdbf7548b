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
};

// Times: the server renders them in UTC (it cannot know the viewer's zone); here they are shown in the browser's
// zone. Only the text node's value changes, never the node, so Blazor keeps updating the node it rendered; each
// update (or new element) is seen by the observer and localised again.
(() => {
    const pad = (n, width = 2) => String(n).padStart(width, "0");
    const zone = (date) => {
        const minutes = -date.getTimezoneOffset();
        if (minutes === 0) return "UTC";
        const sign = minutes > 0 ? "+" : "-";
        const abs = Math.abs(minutes);
        return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
    };
    const format = (date, style) => {
        const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
        if (style === "short") return time;
        const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
        return `${day} ${time}.${pad(date.getMilliseconds(), 3)} ${zone(date)}`;
    };
    const localise = (element) => {
        const date = new Date(element.dataset.utc);
        const text = element.firstChild;
        if (isNaN(date) || !text || text.nodeType !== Node.TEXT_NODE) return;
        const local = format(date, element.dataset.format);
        if (text.nodeValue !== local) text.nodeValue = local;
    };
    const scan = (root) => {
        if (root.nodeType !== Node.ELEMENT_NODE) return;
        if (root.matches(".local-time")) localise(root);
        root.querySelectorAll(".local-time").forEach(localise);
    };
    new MutationObserver((mutations) => {
        for (const mutation of mutations) {
            const target = mutation.type === "characterData" ? mutation.target.parentElement : mutation.target;
            if (target?.closest?.(".local-time")) localise(target.closest(".local-time"));
            mutation.addedNodes.forEach(scan);
        }
    }).observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-utc"] });
    scan(document.documentElement);
})();
