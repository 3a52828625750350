// Package server is the embedded MongoDB server: it accepts connections, speaks the wire
// protocol (internal/engine/wire) and runs commands against the store
// (internal/engine/storage). mongotest is its public face.
package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/modjo-orm/modjo/internal/engine/wire"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Version is the MongoDB version the server reports; its wire version is 21 (7.0).
const (
	Version        = "7.0.0"
	MaxWireVersion = 21
)

// Config configures a Server.
type Config struct {
	// ReplicaSet is the replica-set name the server reports; empty means standalone.
	ReplicaSet string
	// Logger receives connection and error logs; nil discards them.
	Logger *slog.Logger
	// SweepInterval is how often expired TTL documents and idle cursors are removed.
	// Zero means one second.
	SweepInterval time.Duration
}

// Server is a running embedded server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *storage.Store
	cursors *cursors
	started time.Time

	ln   net.Listener
	addr string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	stop   chan struct{}

	connIDs     atomic.Int32
	totalConns  atomic.Int64
	clock       atomic.Uint64 // cluster time: seconds << 32 | increment
	electionID  bson.ObjectID
	commandRuns atomic.Int64
}

// New returns a server that is not yet listening.
func New(cfg Config) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Second
	}
	return &Server{
		cfg:        cfg,
		log:        log,
		store:      storage.New(),
		cursors:    newCursors(),
		conns:      map[net.Conn]struct{}{},
		stop:       make(chan struct{}),
		electionID: bson.NewObjectID(),
		started:    time.Now(),
	}
}

// Serve starts accepting connections on ln in the background.
func (s *Server) Serve(ln net.Listener) {
	s.ln = ln
	s.addr = ln.Addr().String()
	s.wg.Add(2)
	go s.acceptLoop()
	go s.sweepLoop()
}

// Addr returns the address clients dial, host:port.
func (s *Server) Addr() string { return s.addr }

// Store returns the server's data store.
func (s *Server) Store() *storage.Store { return s.store }

// Close stops accepting, closes every connection and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error("mongotest: accept failed", "err", err)
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.totalConns.Add(1)
		go s.serveConn(conn)
	}
}

func (s *Server) sweepLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			if n := s.store.ExpireTTL(now); n > 0 {
				s.log.Debug("mongotest: TTL monitor removed documents", "count", n)
			}
			s.cursors.expire(now)
		}
	}
}

// conn is one client connection's state.
type conn struct {
	id     int32
	remote string
	client bson.D // client metadata from the handshake
}

func (s *Server) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		_ = nc.Close()
	}()
	c := &conn{id: s.connIDs.Add(1), remote: nc.RemoteAddr().String()}
	s.log.Debug("mongotest: connection accepted", "conn", c.id, "remote", c.remote)
	r := bufio.NewReaderSize(nc, 64<<10)
	w := bufio.NewWriterSize(nc, 64<<10)
	var out []byte
	for {
		msg, err := wire.ReadMessage(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("mongotest: closing connection", "conn", c.id, "err", err)
			}
			return
		}
		out, err = s.handleMessage(c, msg, out[:0])
		if err != nil {
			s.log.Debug("mongotest: closing connection after a protocol error", "conn", c.id, "err", err)
			return
		}
		if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				return
			}
			if err := w.Flush(); err != nil {
				return
			}
		}
		if cap(out) > 1<<20 {
			out = nil // do not pin a large reply buffer to an idle connection
		}
	}
}

// handleMessage answers one message, appending the reply to out. A returned error means
// the connection must be closed.
func (s *Server) handleMessage(c *conn, msg *wire.Message, out []byte) ([]byte, error) {
	switch msg.Header.OpCode {
	case wire.OpMsg:
		if err := wire.VerifyChecksum(msg); err != nil {
			return nil, err
		}
		m, err := wire.ParseMsg(msg.Body)
		if err != nil {
			return nil, err
		}
		reply := s.runMsg(c, m)
		if m.MoreToCome() {
			return out, nil
		}
		return wire.AppendMsg(out, s.nextRequestID(), msg.Header.RequestID, 0, reply), nil
	case wire.OpQuery:
		q, err := wire.ParseQuery(msg.Body)
		if err != nil {
			return nil, err
		}
		return wire.AppendReply(out, s.nextRequestID(), msg.Header.RequestID, s.runLegacyQuery(c, q)), nil
	default:
		return nil, fmt.Errorf("%w: unsupported opcode %d", wire.ErrProtocol, msg.Header.OpCode)
	}
}

var requestIDs atomic.Int32

func (s *Server) nextRequestID() int32 { return requestIDs.Add(1) }

// request is one command being run.
type request struct {
	conn *conn
	db   string
	name string
	body bson.D
	// raws keeps the bytes of documents that arrived in kind-1 sequences, by identifier,
	// so inserts can store them without re-encoding.
	raws map[string][][]byte
	now  time.Time
}

// runMsg runs the command of an OP_MSG and returns the encoded reply document.
func (s *Server) runMsg(c *conn, m *wire.Msg) []byte {
	body, err := value.Decode(m.Body)
	if err != nil {
		return s.encodeReply(mongoerr.Newf(mongoerr.InvalidBSON, "invalid command document: %v", err).Reply())
	}
	req := &request{conn: c, body: body, now: time.Now()}
	for _, seq := range m.Sequences {
		docs := make(bson.A, len(seq.Documents))
		for i, raw := range seq.Documents {
			d, err := value.Decode(raw)
			if err != nil {
				return s.encodeReply(mongoerr.Newf(mongoerr.InvalidBSON, "invalid document in sequence %q: %v", seq.Identifier, err).Reply())
			}
			docs[i] = d
		}
		if _, dup := value.Lookup(req.body, seq.Identifier); dup {
			return s.encodeReply(mongoerr.Newf(mongoerr.InvalidOptions, "duplicate field %s in the command and a document sequence", seq.Identifier).Reply())
		}
		req.body = append(req.body, bson.E{Key: seq.Identifier, Value: docs})
		if req.raws == nil {
			req.raws = map[string][][]byte{}
		}
		req.raws[seq.Identifier] = seq.Documents
	}
	return s.encodeReply(s.run(req))
}

// runLegacyQuery answers an OP_QUERY. Drivers send only their first handshake this way;
// MongoDB 6+ rejects every other legacy query, and so does this server.
func (s *Server) runLegacyQuery(c *conn, q *wire.Query) []byte {
	body, err := value.Decode(q.Query)
	if err != nil {
		return s.encodeReply(mongoerr.Newf(mongoerr.InvalidBSON, "invalid query document: %v", err).Reply())
	}
	if len(body) > 0 && (body[0].Key == "$query" || body[0].Key == "query") {
		if inner, ok := body[0].Value.(bson.D); ok {
			body = inner
		}
	}
	db, isCmd := cutSuffix(q.FullCollectionName, ".$cmd")
	if !isCmd || len(body) == 0 || !isHelloName(body[0].Key) {
		name := ""
		if len(body) > 0 {
			name = body[0].Key
		}
		return s.encodeReply(mongoerr.Newf(352, "Unsupported OP_QUERY command: %s. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal", name).Reply())
	}
	body = append(body, bson.E{Key: "$db", Value: db})
	return s.encodeReply(s.run(&request{conn: c, body: body, now: time.Now()}))
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

func (s *Server) encodeReply(reply bson.D) []byte {
	b, err := value.Encode(reply)
	if err != nil {
		s.log.Error("mongotest: cannot encode a reply", "err", err)
		b = value.MustEncode(mongoerr.Newf(mongoerr.InternalError, "cannot encode reply: %v", err).Reply())
	}
	return b
}

// run dispatches a command and turns its result or error into a reply document. A panic
// in a command is a server bug: it is logged and reported as InternalError, and the
// connection and server carry on.
func (s *Server) run(req *request) (reply bson.D) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("mongotest: command panicked", "command", req.name, "panic", p, "stack", string(debug.Stack()))
			reply = s.decorate(mongoerr.Newf(mongoerr.InternalError, "mongotest internal error in %s: %v", req.name, p).Reply())
		}
	}()
	s.commandRuns.Add(1)
	reply, err := s.dispatch(req)
	if err != nil {
		e := mongoerr.From(err)
		if e.Code == mongoerr.InternalError {
			s.log.Error("mongotest: command failed", "command", req.name, "err", err)
		} else {
			s.log.Debug("mongotest: command error", "command", req.name, "err", err)
		}
		return s.decorate(e.Reply())
	}
	return s.decorate(reply)
}

// decorate adds the cluster time fields a replica-set member reports.
func (s *Server) decorate(reply bson.D) bson.D {
	if s.cfg.ReplicaSet == "" {
		return reply
	}
	ts := s.clusterTime()
	return append(reply,
		bson.E{Key: "$clusterTime", Value: bson.D{
			{Key: "clusterTime", Value: ts},
			{Key: "signature", Value: bson.D{
				{Key: "hash", Value: bson.Binary{Subtype: 0, Data: make([]byte, 20)}},
				{Key: "keyId", Value: int64(0)},
			}},
		}},
		bson.E{Key: "operationTime", Value: ts},
	)
}

// clusterTime returns the current logical time.
func (s *Server) clusterTime() bson.Timestamp {
	v := s.clock.Load()
	if v == 0 {
		return s.tick()
	}
	return bson.Timestamp{T: uint32(v >> 32), I: uint32(v)}
}

// tick advances the logical clock (on every write) and returns the new time.
func (s *Server) tick() bson.Timestamp {
	for {
		old := s.clock.Load()
		secs := uint64(time.Now().Unix())
		next := secs<<32 | 1
		if old>>32 >= secs {
			next = old + 1
		}
		if s.clock.CompareAndSwap(old, next) {
			return bson.Timestamp{T: uint32(next >> 32), I: uint32(next)}
		}
	}
}

// handler runs one command.
type handler func(s *Server, ctx context.Context, req *request) (bson.D, error)

func (s *Server) dispatch(req *request) (bson.D, error) {
	if len(req.body) == 0 {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "empty command document")
	}
	req.name = req.body[0].Key
	db, ok := value.Lookup(req.body, "$db")
	if !ok {
		return nil, mongoerr.Newf(40571, "OP_MSG requests require a $db argument")
	}
	if req.db, ok = db.(string); !ok {
		return nil, mongoerr.Newf(mongoerr.TypeMismatch, "$db must be a string")
	}
	h, ok := commands[req.name]
	if !ok {
		return nil, mongoerr.Newf(mongoerr.CommandNotFound, "no such command: '%s'", req.name)
	}
	for _, e := range req.body {
		switch e.Key {
		case "startTransaction", "autocommit":
			return nil, notSupported("multi-document transactions yet (startTransaction/autocommit)")
		}
	}
	return h(s, context.Background(), req)
}

// commands maps command names to handlers. Files of this package fill it from init.
var commands = map[string]handler{}

func register(h handler, names ...string) {
	for _, n := range names {
		if _, dup := commands[n]; dup {
			panic("server: command registered twice: " + n)
		}
		commands[n] = h
	}
}

// ok is the reply of a command with nothing to report.
func ok(fields ...bson.E) bson.D {
	return append(bson.D(fields), bson.E{Key: "ok", Value: 1.0})
}
