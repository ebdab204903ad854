// The tools_test binary links the emberdb library but not the CLI's own objects, so the CLI's
// pure parts (no database calls) are compiled into it here, to be unit-tested directly.
#include "../../tools/cli/apt_translations.cc"
#include "../../tools/cli/chunker.cc"
#include "../../tools/cli/document_reader.cc"
#include "../../tools/cli/file_walk.cc"
#include "../../tools/cli/html_reader.cc"
#include "../../tools/cli/ingester.cc"
#include "../../tools/cli/markdown_reader.cc"
#include "../../tools/cli/metadata_json.cc"
#include "../../tools/cli/progress.cc"
#include "../../tools/cli/record_readers.cc"
#include "../../tools/cli/sha256.cc"
#include "../../tools/cli/utf8_text.cc"
