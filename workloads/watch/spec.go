package watch

// ClassicSpec is the long-lived session: the whole prefix from revision
// 1 with previous key-values, asking for progress every window, pinned
// and cancelled when its node loses the leader, for the whole run.
func ClassicSpec(session int) WatchSpec {
	return WatchSpec{Session: session, Prefix: true, Start: StartFirst, PrevKV: true, RequestProgress: true, RequireLeader: true}
}

// RotatingSpec is the spec of the n-th rotating session over keys keys.
// Each of its choices turns with its own period, the periods pairwise
// coprime, so that a few dozen sessions meet every combination of what
// is watched (the prefix, one key, a range: period 3) and where from
// (now, an old revision, a future one, revision 1: period 4), and every
// option with each kind of watch: WithPrevKV (2 in 5), a filter (2 in
// 7), WithProgressNotify (5 in 11), RequestProgress (9 in 13), every
// endpoint (3 in 17, requiring a leader 10 times in 19). starts, when
// not empty, are the only places it watches from (some of Starts, in its
// order); the turn keeps its period of 4.
func RotatingSpec(n, keys int, starts []string) WatchSpec {
	if len(starts) == 0 {
		starts = Starts
	}
	s := WatchSpec{Session: n, Windows: 4 + (n*5)%13}
	switch n % 3 {
	case 0:
		s.Prefix = true
	case 1:
		s.Key = KeyName((n / 3) % keys)
	default:
		a := (n / 3) % max(keys-1, 1)
		s.Key, s.End = KeyName(a), KeyName(min(a+2, keys))
	}
	switch s.Start = starts[(n%4)%len(starts)]; s.Start {
	case StartOld:
		s.Offset = 1 + int64(n*13)%60
	case StartFuture:
		s.Offset = 1 + int64(n*7)%30
	}
	s.PrevKV = n%5 < 2
	switch n % 7 {
	case 3:
		s.Filter = FilterNoPut
	case 5:
		s.Filter = FilterNoDelete
	}
	s.ProgressNotify = (n%11)%2 == 1
	s.RequestProgress = n%13 < 9
	switch n % 17 {
	case 1, 6, 11:
		s.Failover = true
		s.RequireLeader = (n%19)%2 == 0
	default:
		s.RequireLeader = true
	}
	return s
}
