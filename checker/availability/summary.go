package availability

import (
	"fmt"
	"sort"
	"strings"
)

// summarize renders the lines a person reads first: the run's write
// availability, then for each window its sides, recoveries and whether
// the expectation was met, then the first violations.
func summarize(d *Details, cfg Config) []string {
	hl := d.Headline
	reads := "linearizable reads"
	if d.Serializable {
		reads = "serializable reads (exempt from the minority rule)"
	}
	lines := []string{
		fmt.Sprintf("availability: %d fault windows, %d judged; writes accepted %.1f%% of the run (%d outages of %s or more)",
			hl.Windows, hl.Judged, 100*hl.WriteAvailability, len(d.Outages), fmtDuration(cfg.OutageThreshold)),
		fmt.Sprintf("  grace %s, majority gap bound %s, election timeout %s, %s",
			fmtDuration(cfg.Grace), fmtDuration(cfg.MajorityGapBound), fmtDuration(cfg.ElectionTimeout), reads),
		fmt.Sprintf("  minority linearizable ok ops after grace: %d; minority ok reads (serializable): %d; election gap %s; recovery %s",
			hl.MinorityLinearizableOK, hl.MinoritySerializableReads, fmtPtr(hl.ElectionGapS), fmtPtr(hl.RecoveryS)),
	}
	for _, w := range d.Windows {
		lines = append(lines, windowLines(w)...)
	}
	for _, v := range d.Violations {
		lines = append(lines, fmt.Sprintf("  violation (%s rule, window #%d): %s", v.Rule, v.Window, v.Message))
	}
	if n := hl.Violations - len(d.Violations); n > 0 {
		lines = append(lines, fmt.Sprintf("  ... and %d more violations", n))
	}
	return lines
}

func windowLines(w Window) []string {
	what := w.Kind
	if w.Layout != "" {
		what += " " + w.Layout
	}
	if w.Kind != KindPartition && len(w.Cut) > 0 {
		what += " " + strings.Join(w.Cut, ",")
	} else if len(w.Sides) > 0 {
		var sides []string
		for _, s := range w.Sides {
			sides = append(sides, strings.Join(s.Nodes, ","))
		}
		what += " " + strings.Join(sides, " | ")
	} else if len(w.Cut) > 0 {
		what += " cutting " + strings.Join(w.Cut, ",")
	}
	lines := []string{fmt.Sprintf("  #%d %s, %.2fs to %.2fs (%s)", w.Number, what, w.StartS, w.EndS, w.ClosedBy)}
	for _, s := range w.Sides {
		lines = append(lines, "     "+sideLine(s.Role+" "+strings.Join(s.Nodes, ","), s.Role, s.Figures))
		if s.MajorityRuleSkipped != "" {
			lines = append(lines, "       majority rule not applied: "+s.MajorityRuleSkipped)
		}
	}
	if len(w.Sides) == 0 && w.NotJudged == "no clean sides" {
		for _, n := range w.PerNode {
			lines = append(lines, "     "+sideLine("node "+n.Node, "", n.Figures))
		}
	}
	if w.Failover != nil {
		lines = append(lines, "     "+sideLine("failover clients", RoleMajority, *w.Failover))
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
	verdict := "not judged"
	switch {
	case w.Met != nil && *w.Met:
		verdict = "met"
	case w.Met != nil:
		verdict = "NOT MET"
	case w.NotJudged != "" && w.NotJudged != "no clean sides":
		verdict = "not judged (" + w.NotJudged + ")"
	}
	return append(lines, fmt.Sprintf("     expected: %s: %s", w.Expectation, verdict))
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
