package availability

import (
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness"
)

// summarize renders the lines a person reads first: the run's write
// availability, then for each window what it did (its sides, the leader
// when it began), each state it went through with its sides' figures and
// whether the expectation was met, the recoveries, the quorum restores,
// each node's recovery after the final heal, then the first violations.
func summarize(d *Details, cfg Config) []string {
	hl := d.Headline
	reads := "linearizable reads"
	if d.Serializable {
		reads = "serializable reads (exempt from the minority rule)"
	}
	lines := []string{
		fmt.Sprintf("availability: %d fault windows, %d judged; writes accepted %.1f%% of the run (%s of %s or more)",
			hl.Windows, hl.Judged, 100*hl.WriteAvailability, harness.Count(len(d.Outages), "outage"), fmtDuration(cfg.OutageThreshold)),
		fmt.Sprintf("  grace %s, majority gap bound %s, quorum restore bound %s, recover bound %s, election timeout %s, %s",
			fmtDuration(cfg.Grace), fmtDuration(cfg.MajorityGapBound), fmtDuration(cfg.QuorumRestoreBound), fmtDuration(cfg.RecoverBound), fmtDuration(cfg.ElectionTimeout), reads),
		fmt.Sprintf("  minority linearizable ok ops after grace: %d; minority ok reads (serializable): %d; election gap %s; recovery %s",
			hl.MinorityLinearizableOK, hl.MinoritySerializableReads, fmtPtr(hl.ElectionGapS), fmtPtr(hl.RecoveryS)),
	}
	segs := map[int]Segment{}
	for _, s := range d.Segments {
		segs[s.Number] = s
	}
	for _, w := range d.Windows {
		lines = append(lines, windowLines(w, segs)...)
	}
	for _, r := range d.Restores {
		lines = append(lines, "  "+restoreLine(r, cfg))
	}
	if len(d.FinalRecovery) > 0 {
		var rs []string
		for _, r := range d.FinalRecovery {
			if r.Seconds != nil {
				rs = append(rs, fmt.Sprintf("%s %.2fs", r.Node, *r.Seconds))
			} else {
				rs = append(rs, fmt.Sprintf("%s never (%s)", r.Node, r.Note))
			}
		}
		lines = append(lines, "  after the final heal each node served again: "+strings.Join(rs, ", "))
	}
	for _, u := range d.Unjudged {
		lines = append(lines, "  not judged: "+u)
	}
	for _, v := range d.Violations {
		where := ""
		if v.Window > 0 {
			where = fmt.Sprintf(", window #%d", v.Window)
		}
		lines = append(lines, fmt.Sprintf("  violation (%s rule%s): %s", v.Rule, where, v.Message))
	}
	if n := hl.Violations - len(d.Violations); n > 0 {
		lines = append(lines, fmt.Sprintf("  ... and %d more violations", n))
	}
	return lines
}

// windowLines renders one window: its label and span, then its states.
func windowLines(w Window, segs map[int]Segment) []string {
	what := w.Label
	if what == "" {
		what = w.Kind
	}
	var about []string
	if w.Layout != "" && w.Kind == KindPartition && !strings.Contains(what, w.Layout) {
		about = append(about, w.Layout)
	}
	if w.Leader != "" {
		about = append(about, "leader "+w.Leader+" when it began")
	}
	if len(about) > 0 {
		what += " (" + strings.Join(about, ", ") + ")"
	}
	head := fmt.Sprintf("  #%d %s, %.2fs to %.2fs (%s)", w.Number, what, w.StartS, w.EndS, w.ClosedBy)
	if len(w.Segments) > 1 {
		head += fmt.Sprintf(", %d states", len(w.Segments))
	}
	lines := []string{head}
	for _, n := range w.Segments {
		s := segs[n]
		indent := "     "
		if len(w.Segments) > 1 {
			lines = append(lines, fmt.Sprintf("     %.2fs to %.2fs: %s", s.FromS, s.ToS, s.State))
			indent = "       "
		}
		for _, side := range s.Sides {
			lines = append(lines, indent+sideLine(side.Role+" "+strings.Join(side.Nodes, ","), side.Role, side.Figures))
			if side.MajorityRuleSkipped != "" {
				lines = append(lines, indent+"  majority rule not applied: "+side.MajorityRuleSkipped)
			}
		}
		if s.Failover != nil {
			lines = append(lines, indent+sideLine("failover clients", RoleMajority, *s.Failover))
		}
		if len(w.Segments) > 1 {
			lines = append(lines, indent+"expected: "+s.Expectation+": "+verdictOf(s.Met, s.NotJudged))
		}
	}
	if len(w.Recovery) > 0 {
		var rs []string
		for _, r := range w.Recovery {
			if r.Seconds != nil {
				rs = append(rs, fmt.Sprintf("%s %.2fs", r.Node, *r.Seconds))
			} else {
				rs = append(rs, fmt.Sprintf("%s not seen (%s)", r.Node, r.Note))
			}
		}
		lines = append(lines, "     recovery after the heal: "+strings.Join(rs, ", "))
	}
	if len(w.Segments) > 1 {
		return append(lines, "     verdict: "+verdictOf(w.Met, w.NotJudged))
	}
	return append(lines, fmt.Sprintf("     expected: %s: %s", strings.TrimPrefix(w.Expectation, "not judged: "), verdictOf(w.Met, w.NotJudged)))
}

// verdictOf renders whether an expectation was met.
func verdictOf(met *bool, notJudged string) string {
	switch {
	case met != nil && *met:
		return "met"
	case met != nil:
		return "NOT MET"
	case notJudged != "":
		return "not judged (" + notJudged + ")"
	}
	return "not judged"
}

// restoreLine renders a quorum restore.
func restoreLine(r Restore, cfg Config) string {
	s := fmt.Sprintf("quorum restored at %.2fs by %s: ", r.AtS, r.By)
	if r.ServedS != nil {
		s += fmt.Sprintf("served again after %.2fs (bound %s)", *r.ServedS, fmtDuration(cfg.QuorumRestoreBound))
	} else if r.Note != "" {
		s += "not judged: " + r.Note
	} else {
		s += "never served again"
	}
	if r.Met != nil {
		s += ": " + verdictOf(r.Met, "")
	}
	return s
}

// sideLine renders one group's figures; which figures depends on role.
func sideLine(name, role string, f Figures) string {
	total := f.OK + f.Fail + f.Info + f.Unfinished
	s := fmt.Sprintf("%s: %.1f%% ok (%d/%d)", name, 100*f.OKRate, f.OK, total)
	switch role {
	case RoleMajority:
		s += fmt.Sprintf("; election gap %s; longest write gap %s", fmtPtr(f.ElectionGapS), fmtPtr(f.LongestWriteGapS))
	case RoleMinority:
		s += fmt.Sprintf("; linearizable ok after grace %d; minority ok reads (serializable) %d; ok by f: %s",
			f.LinearizableOKAfterGrace, f.SerializableReadsOK, byF(f.OKByF))
	case RoleDown:
		s += "; ok by f: " + byF(f.OKByF)
	case RolePartial:
		s += "; reaches a quorum through a node that sees both sides"
	default:
		s += fmt.Sprintf("; first write after %s; linearizable ok after grace %d", fmtPtr(f.ElectionGapS), f.LinearizableOKAfterGrace)
	}
	return s
}

func byF(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	fs := make([]string, 0, len(m))
	for f := range m {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s %d", f, m[f])
	}
	return strings.Join(parts, ", ")
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%.2fs", *p)
}
