// Typeset every formula of the built site with MathJax 3 and the book's macros,
// with the `noundefined` package removed, so an undefined macro or any other TeX
// error is reported instead of being drawn in red on the page.
//
// Usage: node scripts/check_math.js formulas.json macros.json
//   formulas.json: [{"page": "book/x.html", "tex": "...", "display": true}, ...]
//   macros.json:   {"R": "\\mathbb{R}", "pd": ["\\frac{...}", 2], ...}
// Prints one JSON line per error and exits 1 if there were any.
"use strict";
const fs = require("fs");
const [formulasFile, macrosFile] = process.argv.slice(2);
const formulas = JSON.parse(fs.readFileSync(formulasFile, "utf8"));
const macros = JSON.parse(fs.readFileSync(macrosFile, "utf8"));

require("mathjax")
  .init({
    loader: { load: ["input/tex-full", "output/svg"] },
    tex: {
      packages: { "[-]": ["noundefined"] },
      macros: macros,
      formatError: (jax, err) => {
        throw err;
      },
    },
    startup: { typeset: false },
  })
  .then((MathJax) => {
    let errors = 0;
    for (const f of formulas) {
      try {
        MathJax.tex2svg(f.tex, { display: f.display });
      } catch (err) {
        errors += 1;
        console.log(JSON.stringify({ page: f.page, tex: f.tex, error: err.message }));
      }
    }
    console.error(`checked ${formulas.length} formulas, ${errors} errors`);
    process.exit(errors ? 1 : 0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(2);
  });
