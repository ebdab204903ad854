// Ctrl-C handling for long commands: the first SIGINT only sets a flag, so the command can
// finish its current batch, keep what was acknowledged and print its summary; a second SIGINT
// ends the process at once.
#pragma once

namespace emberdb::cli {

void InstallInterruptHandler();
bool Interrupted();

// Test hook: when $EMBERDB_TEST_INTERRUPT_AFTER_BATCHES is N > 0, raises SIGINT once the Nth
// call happens, so tests exercise the real signal path deterministically.
void CountBatchForTestInterrupt();

}  // namespace emberdb::cli
