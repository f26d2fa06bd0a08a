// Typeset the math of built HTML pages at build time, so that pages need no MathJax
// at run time: they render the same offline, at once, and the layout never shifts.
//
// Usage: node scripts/prerender_math.js MACROS.json PAGE.html [PAGE.html ...]
//   MACROS.json: {"R": "\\mathbb{R}", "pd": ["\\frac{...}", 2], ...} (MathJax 3 form)
//
// Sphinx (sphinx.ext.mathjax's markup, also used for MyST's amsmath blocks and for math
// in Markdown cell outputs) writes every formula in a fixed form, with the TeX source
// HTML-escaped, so no tag can occur inside it:
//   inline:  <span class="math notranslate nohighlight">\(TeX\)</span>
//   display: <div class="math notranslate nohighlight" id="equation-x">
//            <span class="eqno">(1.1)<a class="headerlink" ...>#</a></span>\[TeX\]</div>
// Each such element keeps its tag, attributes and equation number; its TeX is replaced by
// MathJax 3's SVG output (glyphs drawn in currentColor, so math follows the text colour
// in dark mode) with assistive MathML for screen readers, and the TeX is kept in a
// `data-tex` attribute; a display formula can take the keyboard focus, since the theme
// scrolls it sideways when it is wider than the page. Glyph shapes go into one hidden
// <svg><defs> per page (MathJax's global font cache); MathJax's SVG stylesheet goes
// into the page's <head>.
//
// The `noundefined` package is removed and every TeX error is thrown, so an undefined
// macro or any other error is reported (one JSON line on stdout per error: page, TeX,
// message) instead of being drawn in red; a math element in an unexpected form is an
// error too. A page is rewritten only if all its formulas typeset. A page that already
// holds the font cache was rendered by an earlier build and is left as it is.
// Exit status: 0 when every page is done, 1 if there were errors, 2 on a usage error.
"use strict";
const fs = require("fs");
const path = require("path");

const CACHE_ID = "MJX-SVG-global-cache";
const STYLE_ID = "MJX-SVG-styles";
// An element whose class list holds "math", with its content up to its own closing tag.
// Inline math holds no tag; display math holds only the equation number's span.
const MATH = /<(span|div)(\s[^>]*?\bclass="(?:[^"]*\s)?math(?:\s[^"]*)?"[^>]*)>([\s\S]*?)<\/\1>/g;
const INLINE = /^\\\(([\s\S]*)\\\)$/;
const DISPLAY = /^\s*(<span class="eqno">[\s\S]*?<\/span>)?\s*\\\[([\s\S]*)\\\]\s*$/;

function unescapeHtml(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e) => {
    const named = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e.toLowerCase()];
    if (named) return named;
    return String.fromCodePoint(e[1].toLowerCase() === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

function escapeAttribute(s) {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function main(MathJax, pages) {
  const adaptor = MathJax.startup.adaptor;
  const fontCache = MathJax.startup.output.fontCache;
  const style = `<style id="${STYLE_ID}">${adaptor.textContent(MathJax.svgStylesheet())}</style>`;
  const errors = [];
  let formulas = 0;
  let rendered = 0;
  for (const page of pages) {
    const html = fs.readFileSync(page, "utf8");
    if (html.includes(`id="${CACHE_ID}"`)) continue; // rendered by an earlier build
    fontCache.clearCache();
    const pageErrors = [];
    let count = 0;
    const fail = (tex, message) => pageErrors.push({ page, tex, error: message });
    const out = html.replace(MATH, (element, tag, attributes, content) => {
      const form = tag === "span" ? INLINE.exec(content) : DISPLAY.exec(content);
      if (!form) {
        fail(content.slice(0, 200), `a <${tag} class="math"> element in an unexpected form`);
        return element;
      }
      const [eqno, source] = tag === "span" ? ["", form[1]] : [form[1] || "", form[2]];
      const tex = unescapeHtml(source).trim();
      let svg;
      try {
        const container = MathJax.tex2svg(tex, { display: tag === "div" });
        // The theme lets a wide display formula scroll sideways (overflow: auto): a
        // scrollable region must be reachable from the keyboard, as MathJax in the
        // browser makes every formula (axe-core: scrollable-region-focusable).
        if (tag === "div") adaptor.setAttribute(container, "tabindex", "0");
        svg = adaptor.outerHTML(container);
      } catch (err) {
        fail(tex, err && err.message ? err.message : String(err));
        return element;
      }
      count += 1;
      return `<${tag}${attributes} data-tex="${escapeAttribute(tex)}">${eqno}${svg}</${tag}>`;
    });
    formulas += count + pageErrors.length;
    if (pageErrors.length) {
      errors.push(...pageErrors);
      continue;
    }
    if (!count) continue; // no math: the page stays as it is
    const defs = adaptor.outerHTML(fontCache.getCache());
    const cache =
      `<svg id="${CACHE_ID}" style="display: none" aria-hidden="true" ` +
      `xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">${defs}</svg>`;
    const head = out.indexOf("</head>");
    const body = /<body\b[^>]*>/.exec(out);
    if (head < 0 || !body || body.index < head) {
      errors.push({ page, tex: "", error: "no </head> followed by <body>: not a full HTML page" });
      continue;
    }
    const bodyEnd = body.index + body[0].length;
    fs.writeFileSync(
      page,
      out.slice(0, head) + style + "\n" + out.slice(head, bodyEnd) + cache + out.slice(bodyEnd),
    );
    rendered += 1;
  }
  for (const e of errors) console.log(JSON.stringify(e));
  console.error(
    `prerender_math: ${formulas} formulas, ${rendered} pages written, ${errors.length} errors`,
  );
  return errors.length ? 1 : 0;
}

const [macrosFile, ...pages] = process.argv.slice(2);
if (!macrosFile || !pages.length) {
  console.error("usage: node scripts/prerender_math.js MACROS.json PAGE.html [PAGE.html ...]");
  process.exit(2);
}
const macros = JSON.parse(fs.readFileSync(macrosFile, "utf8"));
// Resolve MathJax from the repository's node_modules wherever the script is run from.
const mathjax = require(require.resolve("mathjax", { paths: [path.join(__dirname, "..")] }));
mathjax
  .init({
    loader: { load: ["input/tex-full", "output/svg", "a11y/assistive-mml"] },
    tex: {
      packages: { "[-]": ["noundefined"] },
      macros,
      formatError: (jax, err) => {
        throw err;
      },
    },
    svg: { fontCache: "global" },
    startup: { typeset: false },
  })
  .then((MathJax) => process.exit(main(MathJax, pages)))
  .catch((err) => {
    console.error(err);
    process.exit(2);
  });
