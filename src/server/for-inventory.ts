/** The web server an inventory runs on. One kind today: Apache with mod_wsgi. */
import type { Inventory } from '../inventory/types.js';
import { apacheServer, type ApacheDeps } from '../apache/apache-server.js';
import type { WebServer } from './web-server.js';

export function webServerOf(inventory: Inventory, deps: ApacheDeps = {}): WebServer {
  return apacheServer(inventory, deps);
}
