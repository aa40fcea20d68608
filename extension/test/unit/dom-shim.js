// Just enough of a document for h(): elements with attributes, listeners, children and textContent.
class FakeText {
  constructor(text) {
    this.nodeType = 3;
    this.textContent = text;
  }
}

class FakeElement {
  constructor(tagName) {
    this.nodeType = 1;
    this.tagName = tagName.toUpperCase();
    this.attributes = {};
    this.listeners = {};
    this.childNodes = [];
  }

  setAttribute(name, value) { this.attributes[name] = String(value); }
  getAttribute(name) { return this.attributes[name] ?? null; }
  addEventListener(type, listener) { (this.listeners[type] ??= []).push(listener); }
  dispatch(type, event = {}) { for (const listener of this.listeners[type] ?? []) listener(event); }
  append(...nodes) { this.childNodes.push(...nodes); }
  get children() { return this.childNodes.filter((node) => node instanceof FakeElement); }
  replaceChildren(...nodes) { this.childNodes = nodes; }
  get textContent() { return this.childNodes.map((node) => node.textContent).join(''); }
  set textContent(text) { this.childNodes = [new FakeText(text)]; }

  // Form fields: a select's value is its selected option's ('' when none is), as in a browser.
  get options() { return this.findAllTags('OPTION'); }
  get value() {
    if (this.tagName === 'OPTION') return this.getAttribute('value') ?? this.textContent;
    if (this.tagName !== 'SELECT') return this.fieldValue ?? '';
    const options = this.options;
    const chosen = this.selectedIndex ?? options.findIndex((option) => option.getAttribute('selected') !== null);
    return options[chosen === -1 && this.selectedIndex === undefined ? 0 : chosen]?.value ?? '';
  }
  set value(value) {
    if (this.tagName !== 'SELECT') this.fieldValue = String(value);
    else this.selectedIndex = this.options.findIndex((option) => option.value === String(value));
  }

  findAllTags(tagName) {
    return this.children.flatMap((child) => [...(child.tagName === tagName ? [child] : []), ...child.findAllTags(tagName)]);
  }

  /** Every descendant element with the class, depth first. */
  findAll(className) {
    const found = [];
    for (const child of this.children) {
      if ((child.attributes.class ?? '').split(' ').includes(className)) found.push(child);
      found.push(...child.findAll(className));
    }
    return found;
  }

  find(className) { return this.findAll(className)[0] ?? null; }
}

const fakeDocument = {
  createElement: (tagName) => new FakeElement(tagName),
  createTextNode: (text) => new FakeText(text),
};

module.exports = { FakeElement, fakeDocument };
