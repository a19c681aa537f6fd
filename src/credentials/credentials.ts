/**
 * Where the site's users' passwords are kept, behind one small interface. The one implementation
 * today is Apache's password file (src/apache/); unit tests fake it. Nothing
 * outside an implementation knows its file format.
 */

/** What the web server's configuration needs to check a login against these credentials. */
export interface CredentialsConfig {
  /** The Apache authn provider name (`AuthBasicProvider`/`AuthFormProvider`). */
  provider: string;
  /** Directives that configure that provider, `[name, argument]`, escaped by the template. */
  directives: [string, string][];
  /** Apache modules the provider needs, as `apache2 -M` names them (without `_module`). */
  modules: string[];
}

export interface Credentials {
  /** Where they are kept, for messages (`set in FILE`). */
  readonly location: string;
  /** Users that have a password. */
  list(): Promise<string[]>;
  has(user: string): Promise<boolean>;
  /** Set (or replace) a user's password. */
  set(user: string, password: string): Promise<void>;
  /** Remove these users' passwords; returns the users that had one. */
  remove(users: string[]): Promise<string[]>;
  webServerConfig(): CredentialsConfig;
}
