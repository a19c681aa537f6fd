/** The ejs templates, found relative to this module and compiled once. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { UserError } from '../errors.js';

const templateDir = new URL('../../../templates/', import.meta.url);

export type TemplateName = 'plex.conf' | 'site.wsgi' | 'group.wsgi' | 'procmap.txt';

/** plexctl's own login page, used unless apache.login_template names another. */
export const builtinLoginTemplate = fileURLToPath(new URL('login.html.ejs', templateDir));

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

const htmlCompiled = new Map<string, ejs.TemplateFunction>();

/**
 * An HTML page: here ejs's own escaping is the right one, so `<%= value %>` escapes for HTML
 * (& < > " '). `file` is the operator's template (apache.login_template) or plexctl's own.
 */
export function renderHtmlTemplate(file: string | undefined, data: Record<string, unknown>): string {
  const path = file ?? builtinLoginTemplate;
  let template = htmlCompiled.get(path);
  if (!template) {
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UserError(`cannot read the login page template ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'fix apache.login_template in the inventory');
    }
    try {
      template = ejs.compile(source, { filename: path, strict: true, localsName: 'it', _with: false, destructuredLocals: Object.keys(data) });
    } catch (error) {
      throw new UserError(`the login page template ${path} is not valid ejs: ${(error as Error).message}`, 'fix the template (see the README, "Login page")');
    }
    htmlCompiled.set(path, template);
  }
  try {
    return template(data) as string;
  } catch (error) {
    throw new UserError(`the login page template ${path} failed: ${(error as Error).message}`, 'fix the template (see the README, "Login page")');
  }
}
