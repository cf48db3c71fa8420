package watch

import "sort"

// spans is a set of revisions, as closed intervals: the revisions at
// which every event of one key is known.
type spans struct {
	raw    [][2]int64
	merged [][2]int64
	dirty  bool
}

// add adds [a, b]; nothing if b < a.
func (s *spans) add(a, b int64) {
	if b < a {
		return
	}
	s.raw = append(s.raw, [2]int64{a, b})
	s.dirty = true
}

// covers says whether every revision of [a, b] is in s; an empty range
// is covered.
func (s *spans) covers(a, b int64) bool {
	if b < a {
		return true
	}
	if s.dirty {
		s.merge()
	}
	i := sort.Search(len(s.merged), func(i int) bool { return s.merged[i][1] >= a })
	return i < len(s.merged) && s.merged[i][0] <= a && s.merged[i][1] >= b
}

func (s *spans) merge() {
	sort.Slice(s.raw, func(i, j int) bool { return s.raw[i][0] < s.raw[j][0] })
	s.merged = s.merged[:0]
	for _, r := range s.raw {
		if n := len(s.merged); n > 0 && r[0] <= s.merged[n-1][1]+1 {
			s.merged[n-1][1] = max(s.merged[n-1][1], r[1])
			continue
		}
		s.merged = append(s.merged, r)
	}
	s.dirty = false
}
