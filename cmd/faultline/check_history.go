package main

import (
	"strings"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results/edn"
)

// readHistory reads the history file at path: a Jepsen history.edn when
// its name ends in .edn, else faultline's history.jsonl (whose torn last
// line, as a killed harness leaves, is dropped). An EDN history of the
// register workload is held to the cas-register model's values as it is
// read, so a bad value is reported at its line and column.
func readHistory(path, workload string) (harness.History, error) {
	if !strings.HasSuffix(path, ".edn") {
		return harness.ReadJSONLFile(path)
	}
	var check edn.OpCheck
	if workload == "register" {
		check = edn.CASRegister
	}
	return edn.ReadHistoryFile(path, check)
}
