import { DIALECTS } from "./support/databases.js";
import { runHttpSuite } from "./http.suite.js";

for (const dialect of DIALECTS) runHttpSuite({ dialect });
