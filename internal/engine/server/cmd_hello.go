package server

import (
	"context"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register((*Server).cmdHello, "hello", "isMaster", "ismaster")
	register(cmdPing, "ping")
	register((*Server).cmdBuildInfo, "buildInfo", "buildinfo")
	register((*Server).cmdServerStatus, "serverStatus")
	register(cmdConnectionStatus, "connectionStatus")
	register(cmdWhatsMyURI, "whatsmyuri")
	register((*Server).cmdGetParameter, "getParameter")
	register(cmdNoop, "endSessions", "killSessions", "refreshSessions", "killAllSessions", "killAllSessionsByPattern", "logout")
	register((*Server).cmdHostInfo, "hostInfo")
	register(cmdGetCmdLineOpts, "getCmdLineOpts")
	register(cmdGetLog, "getLog")
	register(cmdListCommands, "listCommands")
	register((*Server).cmdReplSetGetStatus, "replSetGetStatus")
	register(cmdTransactionUnsupported, "commitTransaction", "abortTransaction")
}

func isHelloName(name string) bool {
	return name == "hello" || name == "isMaster" || name == "ismaster"
}

func (s *Server) cmdHello(_ context.Context, req *request) (bson.D, error) {
	helloOK := false
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		switch e.Key {
		case "helloOk":
			helloOK, _ = e.Value.(bool)
		case "client":
			if d, ok := e.Value.(bson.D); ok {
				req.conn.client = d
			}
		}
		// Drivers add handshake fields over time (backpressure, …); the handshake must not
		// fail on one this server does not know.
		return true, nil
	}); err != nil {
		return nil, err
	}
	primaryKey := "isWritablePrimary"
	if req.name != "hello" {
		primaryKey = "ismaster"
	}
	reply := bson.D{{Key: primaryKey, Value: true}}
	if rs := s.cfg.ReplicaSet; rs != "" {
		ts := s.clusterTime()
		opTime := bson.D{{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}}
		writeDate := bson.DateTime(int64(ts.T) * 1000)
		reply = append(reply,
			bson.E{Key: "hosts", Value: bson.A{s.addr}},
			bson.E{Key: "setName", Value: rs},
			bson.E{Key: "setVersion", Value: int32(1)},
			bson.E{Key: "secondary", Value: false},
			bson.E{Key: "primary", Value: s.addr},
			bson.E{Key: "me", Value: s.addr},
			bson.E{Key: "electionId", Value: s.electionID},
			bson.E{Key: "lastWrite", Value: bson.D{
				{Key: "opTime", Value: opTime},
				{Key: "lastWriteDate", Value: writeDate},
				{Key: "majorityOpTime", Value: opTime},
				{Key: "majorityWriteDate", Value: writeDate},
			}},
		)
	}
	reply = append(reply,
		bson.E{Key: "maxBsonObjectSize", Value: int32(16 * 1024 * 1024)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(48_000_000)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(100_000)},
		bson.E{Key: "localTime", Value: bson.NewDateTimeFromTime(req.now)},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		bson.E{Key: "connectionId", Value: req.conn.id},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: int32(MaxWireVersion)},
		bson.E{Key: "readOnly", Value: false},
	)
	if helloOK {
		reply = append(reply, bson.E{Key: "helloOk", Value: true})
	}
	return ok(reply...), nil
}

func cmdPing(_ *Server, _ context.Context, _ *request) (bson.D, error) { return ok(), nil }

func cmdNoop(_ *Server, _ context.Context, _ *request) (bson.D, error) { return ok(), nil }

func cmdTransactionUnsupported(_ *Server, _ context.Context, _ *request) (bson.D, error) {
	return nil, notSupported("multi-document transactions yet")
}

func (s *Server) cmdBuildInfo(_ context.Context, _ *request) (bson.D, error) {
	return ok(
		bson.E{Key: "version", Value: Version},
		bson.E{Key: "gitVersion", Value: "mongotest"},
		bson.E{Key: "versionArray", Value: bson.A{int32(7), int32(0), int32(0), int32(0)}},
		bson.E{Key: "bits", Value: int32(64)},
		bson.E{Key: "debug", Value: false},
		bson.E{Key: "maxBsonObjectSize", Value: int32(16 * 1024 * 1024)},
		bson.E{Key: "storageEngines", Value: bson.A{"mongotest"}},
		bson.E{Key: "modules", Value: bson.A{}},
		bson.E{Key: "javascriptEngine", Value: "none"},
	), nil
}

func (s *Server) cmdServerStatus(_ context.Context, req *request) (bson.D, error) {
	s.mu.Lock()
	current := len(s.conns)
	s.mu.Unlock()
	uptime := req.now.Sub(s.started)
	host, _ := os.Hostname()
	reply := []bson.E{
		{Key: "host", Value: host},
		{Key: "version", Value: Version},
		{Key: "process", Value: "mongod"},
		{Key: "pid", Value: int64(os.Getpid())},
		{Key: "uptime", Value: float64(int64(uptime.Seconds()))},
		{Key: "uptimeMillis", Value: uptime.Milliseconds()},
		{Key: "uptimeEstimate", Value: int64(uptime.Seconds())},
		{Key: "localTime", Value: bson.NewDateTimeFromTime(req.now)},
		{Key: "connections", Value: bson.D{
			{Key: "current", Value: int32(current)},
			{Key: "available", Value: int32(1_000_000 - current)},
			{Key: "totalCreated", Value: s.totalConns.Load()},
		}},
		{Key: "metrics", Value: bson.D{
			{Key: "commands", Value: bson.D{{Key: "total", Value: s.commandRuns.Load()}}},
			{Key: "cursor", Value: bson.D{{Key: "open", Value: bson.D{{Key: "total", Value: int64(s.cursors.count())}}}}},
		}},
		{Key: "storageEngine", Value: bson.D{{Key: "name", Value: "mongotest"}, {Key: "supportsCommittedReads", Value: true}, {Key: "persistent", Value: false}}},
	}
	if s.cfg.ReplicaSet != "" {
		reply = append(reply, bson.E{Key: "repl", Value: bson.D{
			{Key: "setName", Value: s.cfg.ReplicaSet},
			{Key: "isWritablePrimary", Value: true},
			{Key: "hosts", Value: bson.A{s.addr}},
			{Key: "primary", Value: s.addr},
			{Key: "me", Value: s.addr},
		}})
	}
	return ok(reply...), nil
}

func cmdConnectionStatus(_ *Server, _ context.Context, _ *request) (bson.D, error) {
	return ok(bson.E{Key: "authInfo", Value: bson.D{
		{Key: "authenticatedUsers", Value: bson.A{}},
		{Key: "authenticatedUserRoles", Value: bson.A{}},
	}}), nil
}

func cmdWhatsMyURI(_ *Server, _ context.Context, req *request) (bson.D, error) {
	return ok(bson.E{Key: "you", Value: req.conn.remote}), nil
}

// parameters are what getParameter reports.
var parameters = bson.D{
	{Key: "featureCompatibilityVersion", Value: bson.D{{Key: "version", Value: "7.0"}}},
	{Key: "authenticationMechanisms", Value: bson.A{}},
	{Key: "transactionLifetimeLimitSeconds", Value: int32(60)},
	{Key: "maxBSONDepth", Value: int32(200)},
	{Key: "internalQueryMaxBlockingSortMemoryUsageBytes", Value: int64(100 * 1024 * 1024)},
}

func (s *Server) cmdGetParameter(_ context.Context, req *request) (bson.D, error) {
	all := false
	if v, ok := req.body[0].Value.(string); ok && v == "*" {
		all = true
	}
	if d, ok := req.body[0].Value.(bson.D); ok {
		for _, e := range d {
			if e.Key == "allParameters" && e.Value == true {
				all = true
			}
		}
	}
	var out []bson.E
	for _, p := range parameters {
		if all {
			out = append(out, p)
			continue
		}
		for _, e := range req.body[1:] {
			if e.Key == p.Key {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, mongoerr.Newf(mongoerr.InvalidOptions, "no option found to get")
	}
	return ok(out...), nil
}

func (s *Server) cmdHostInfo(_ context.Context, req *request) (bson.D, error) {
	host, _ := os.Hostname()
	return ok(
		bson.E{Key: "system", Value: bson.D{
			{Key: "currentTime", Value: bson.NewDateTimeFromTime(req.now)},
			{Key: "hostname", Value: host},
			{Key: "cpuAddrSize", Value: int32(64)},
			{Key: "numCores", Value: int32(runtime.NumCPU())},
			{Key: "cpuArch", Value: runtime.GOARCH},
		}},
		bson.E{Key: "os", Value: bson.D{{Key: "type", Value: runtime.GOOS}, {Key: "name", Value: runtime.GOOS}}},
		bson.E{Key: "extra", Value: bson.D{}},
	), nil
}

func cmdGetCmdLineOpts(_ *Server, _ context.Context, _ *request) (bson.D, error) {
	return ok(bson.E{Key: "argv", Value: bson.A{"mongotest"}}, bson.E{Key: "parsed", Value: bson.D{}}), nil
}

func cmdGetLog(_ *Server, _ context.Context, req *request) (bson.D, error) {
	if v, _ := req.body[0].Value.(string); v == "*" {
		return ok(bson.E{Key: "names", Value: bson.A{"global", "startupWarnings"}}), nil
	}
	return ok(bson.E{Key: "totalLinesWritten", Value: int32(0)}, bson.E{Key: "log", Value: bson.A{}}), nil
}

func cmdListCommands(_ *Server, _ context.Context, _ *request) (bson.D, error) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	list := make(bson.D, len(names))
	for i, n := range names {
		list[i] = bson.E{Key: n, Value: bson.D{{Key: "help", Value: ""}}}
	}
	return ok(bson.E{Key: "commands", Value: list}), nil
}

func (s *Server) cmdReplSetGetStatus(_ context.Context, req *request) (bson.D, error) {
	if s.cfg.ReplicaSet == "" {
		return nil, mongoerr.Newf(mongoerr.NotAReplicaSet, "not running with --replSet")
	}
	ts := s.clusterTime()
	return ok(
		bson.E{Key: "set", Value: s.cfg.ReplicaSet},
		bson.E{Key: "date", Value: bson.NewDateTimeFromTime(req.now)},
		bson.E{Key: "myState", Value: int32(1)},
		bson.E{Key: "members", Value: bson.A{bson.D{
			{Key: "_id", Value: int32(0)},
			{Key: "name", Value: s.addr},
			{Key: "health", Value: 1.0},
			{Key: "state", Value: int32(1)},
			{Key: "stateStr", Value: "PRIMARY"},
			{Key: "uptime", Value: int64(time.Since(s.started).Seconds())},
			{Key: "optime", Value: bson.D{{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}}},
			{Key: "self", Value: true},
		}}},
	), nil
}
