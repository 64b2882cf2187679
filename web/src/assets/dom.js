// Small DOM helpers: text is always escaped before it goes into markup.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export const $ = (selector, root = document) => root.querySelector(selector);

// A table body of `count` rows of `cells` cells each, made once and then only updated, so a
// busy stream changes text, not the document's structure.
export function fixedRows(tbody, count, cells, numeric = []) {
  tbody.textContent = '';
  const rows = [];
  for (let i = 0; i < count; i++) {
    const tr = document.createElement('tr');
    const tds = [];
    for (let c = 0; c < cells; c++) {
      const td = document.createElement('td');
      if (numeric.includes(c)) td.className = 'num';
      tr.appendChild(td);
      tds.push(td);
    }
    tbody.appendChild(tr);
    rows.push({ tr, tds });
  }
  return rows;
}

export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export function setClass(el, name) {
  if (el.className !== name) el.className = name;
}

export function setVar(el, name, value) {
  if (el.style.getPropertyValue(name) !== value) el.style.setProperty(name, value);
}
