import { DIALECTS } from "./support/databases.js";
import { runChecksSuite } from "./checks.suite.js";

for (const dialect of DIALECTS) runChecksSuite({ dialect });
