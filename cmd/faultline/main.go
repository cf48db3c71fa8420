// Command faultline is a Jepsen-style fault-injection harness for raft
// key-value stores. It runs real clusters in Docker containers, drives
// concurrent clients against them while a nemesis partitions, kills and
// pauses nodes, records every operation, and checks the history.
//
// Usage:
//
//	faultline test   [flags]   run one test and check it
//	faultline check  PATH      re-check a stored run, a history.jsonl or a Jepsen history.edn
//	faultline matrix [flags]   run every target x node count x layout and compare them
//	faultline compare RUN...   compare stored runs in one table
//	faultline scenario list    list the named scenarios
//	faultline scenario run N   run a scenario and check its expectation
//	faultline serve  [flags]   browse the run store in a web browser
//	faultline images           build the images the tests need
//	faultline clean            remove every container and network of any run
//
// Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 the harness
// itself failed.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/faultline/faultline/harness"
)

const usage = `faultline: Jepsen-style fault injection for raft key-value stores

usage:
  faultline test   [flags]        run one test against a real cluster and check it
  faultline check  [flags] PATH   re-check a stored run directory, history.jsonl or Jepsen history.edn
  faultline matrix [flags]        run every target x node count x layout; print and store a comparison table
  faultline compare RUN...        the same table from stored runs (run or test directories)
  faultline scenario list         the named scenarios: real-bug reproductions, bug modes, defaults
  faultline scenario run NAME     run a scenario [--test-count N]; the exit code says whether it met its expectation
  faultline serve  [flags]        browse the run store in a web browser
  faultline images                build the node images (base, etcd, ...)
  faultline clean                 remove every container and network any run left

Run 'faultline COMMAND --help' for a command's flags.

exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 harness failure
`

func main() {
	os.Exit(run(os.Args[1:]))
}

// run dispatches a subcommand and returns the process exit code. A panic
// is a harness failure: the command's deferred teardown has already run by
// the time it reaches the recover here, and the exit code is 255, never
// Go's 2, which would read as "unknown".
func run(args []string) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "faultline: harness failure: panic: %v\n%s", p, debug.Stack())
			code = harness.ExitHarness
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return harness.ExitBadInput
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "test":
		code, err = testCommand(rest)
	case "check":
		code, err = checkCommand(rest)
	case "matrix":
		code, err = matrixCommand(rest)
	case "compare":
		code, err = compareCommand(rest)
	case "serve":
		code, err = serveCommand(rest)
	case "scenario":
		code, err = scenarioCommand(rest)
	case "images":
		code, err = imagesCommand(rest)
	case "clean":
		code, err = cleanCommand(rest)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "faultline: unknown command %s: want test, check, matrix, compare, scenario, serve, images or clean\n", harness.Quote(cmd))
		return harness.ExitBadInput
	}
	return exitWith(code, err)
}

// exitWith reports err and maps it to an exit code: bad input is 254, any
// other error is a harness failure, 255.
func exitWith(code int, err error) int {
	if err == nil {
		return code
	}
	var fe *harness.FlagError
	var bad badInput
	switch {
	case errors.As(err, &fe), errors.As(err, &bad):
		fmt.Fprintf(os.Stderr, "faultline: %v\n", err)
		return harness.ExitBadInput
	case errors.Is(err, errHelp):
		return 0
	}
	fmt.Fprintf(os.Stderr, "faultline: harness failure: %v\n", err)
	return harness.ExitHarness
}

// badInput marks an error as the user's input (a bad file, a bad argument)
// rather than a failure of the harness.
type badInput struct{ err error }

func (b badInput) Error() string { return b.err.Error() }
func (b badInput) Unwrap() error { return b.err }

var errHelp = errors.New("help requested")
