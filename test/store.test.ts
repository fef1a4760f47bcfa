import { DIALECTS } from "./support/databases.js";
import { runStoreSuite } from "./store.suite.js";

for (const dialect of DIALECTS) runStoreSuite({ dialect });
