/**
 * Apache directive arguments. Validation already refuses what Apache cannot carry; this is the
 * second line of defence at the point of output, so a value that slipped past it fails the render
 * instead of changing the meaning of the configuration.
 */
const bare = /^[A-Za-z0-9_./:@+,=-]+$/;
const unsafe = /["\\\u0000-\u001f\u007f]|\$\{|%\{/;

export class UnsafeApacheText extends Error {}

/** One argument: bare when it is plain, else double-quoted. */
export function apacheArg(value: string): string {
  if (unsafe.test(value) || value === '') {
    throw new UnsafeApacheText(`refusing to write ${JSON.stringify(value)} into an Apache directive`);
  }
  return bare.test(value) ? value : `"${value}"`;
}

/** A `name=value` option (WSGIDaemonProcess): mod_wsgi wants the quotes around the value only. */
export function apacheOption(name: string, value: string): string {
  apacheArg(name);
  const quoted = apacheArg(value);
  return `${name}=${quoted}`;
}

/** An argument that must always be quoted (RewriteCond/RewriteRule substitutions, paths). */
export function apacheQuoted(value: string): string {
  apacheArg(value);
  return `"${value}"`;
}

/**
 * Text written as part of a fixed, quoted argument (a URL path inside an expression, a cookie
 * attribute): only characters that mean nothing to Apache, expressions or cookies.
 */
export function apacheLiteral(value: string): string {
  if (!/^[A-Za-z0-9_./~-]+$/.test(value)) {
    throw new UnsafeApacheText(`refusing to write ${JSON.stringify(value)} into an Apache directive`);
  }
  return value;
}
