package watch

import "fmt"

// judgeFilter judges that a watch with a filter delivered no event of
// the type it filters out (filtered-delivered); that it delivered every
// event the filter lets through is judged with the gaps (judgeGaps,
// filtered-out). It reports whether w has a filter and delivered or
// vouched for anything.
func judgeFilter(j *judgement, w *watchRec) bool {
	if w.spec.Filter == "" {
		return false
	}
	for _, d := range w.events {
		if !w.passes(d.Type) {
			j.flag(w.name, Violation{Kind: "filtered-delivered", Watcher: w.name, Op: d.op, Revision: d.Revision, Key: d.Key,
				Detail: fmt.Sprintf("%s delivered to a watch with filter %s", describe(d.Event), w.spec.Filter)})
		}
	}
	_, _, ok := w.span()
	return ok
}
