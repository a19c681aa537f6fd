/** The ejs templates, found relative to this module and compiled once. */
import { readFileSync } from 'node:fs';
import ejs from 'ejs';

const templateDir = new URL('../../../templates/', import.meta.url);

export type TemplateName = 'plex.conf' | 'site.wsgi' | 'group.wsgi' | 'procmap.txt';

/**
 * ejs escapes `<%=` for HTML, which would corrupt Apache and Python text. Templates use `<%-`
 * with an escaper for their own language; a stray `<%=` fails loudly instead.
 */
function refuseHtmlEscaping(): never {
  throw new Error('plexctl templates must use <%- with apache()/py(), never <%=');
}

const compiled = new Map<TemplateName, ejs.TemplateFunction>();

export function renderTemplate(name: TemplateName, data: Record<string, unknown>): string {
  let template = compiled.get(name);
  if (!template) {
    const source = readFileSync(new URL(`${name}.ejs`, templateDir), 'utf8');
    template = ejs.compile(source, { escape: refuseHtmlEscaping, strict: true, localsName: 'it', _with: false, destructuredLocals: Object.keys(data) });
    compiled.set(name, template);
  }
  return template(data) as string;
}
