package kvnode

// Isolate drops (on) or resumes (off) all raft traffic and lease
// forwarding between this node and its peers, as a network partition would.
// Clients can still reach the node.
func (s *Server) Isolate(on bool) { s.isolated.Store(on) }
