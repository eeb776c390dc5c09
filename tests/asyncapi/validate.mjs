// Validate an AsyncAPI document with the AsyncAPI project's own parser (resolving its
// relative $refs to the JSON Schemas beside it). Prints every diagnostic as a JSON line,
// then a summary; exits 1 if the document has an error.
import { Parser, fromFile } from "@asyncapi/parser";

const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, process.argv[2]).parse();
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: d.severity, code: d.code, message: d.message,
                               path: d.path.join("/") }));
}
const errors = diagnostics.filter((d) => d.severity === 0);
if (!document || errors.length) {
  console.log(`invalid: ${errors.length} errors`);
  process.exit(1);
}
console.log(`valid: ${document.channels().length} channels, ` +
            `${document.operations().length} operations, ${document.messages().length} messages`);
