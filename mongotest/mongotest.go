// Package mongotest runs an in-process MongoDB server that speaks MongoDB's wire
// protocol, so programs and test suites can use the official Go driver with nothing
// installed: no mongod, no Docker.
//
//	srv := mongotest.NewServer(t) // closed when the test ends
//	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
//
// By default the server presents itself as the primary of a one-member replica set
// named "rs0". Data lives in memory and disappears when the server closes. See
// docs/mongotest.md for what is supported and every known difference from MongoDB.
package mongotest

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/server"
)

// DefaultReplicaSet is the replica-set name a server reports unless told otherwise.
const DefaultReplicaSet = "rs0"

// Options configure a server. The zero value is ready to use.
type Options struct {
	// Addr is the TCP address to listen on; the default "127.0.0.1:0" picks a free port.
	Addr string
	// ReplicaSet is the replica-set name the server reports; empty means "rs0".
	ReplicaSet string
	// Standalone makes the server present itself as a standalone mongod instead of a
	// replica-set primary. (ReplicaSet's zero value has to mean the default, so
	// standalone mode needs its own switch.)
	Standalone bool
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// SweepInterval is how often expired TTL documents and idle cursors are removed;
	// zero means one second. (MongoDB's TTL monitor runs every 60 seconds.)
	SweepInterval time.Duration
}

// Server is a running embedded server. Its methods are safe for concurrent use.
type Server struct {
	srv *server.Server
	uri string
	rs  string
}

// Start starts a server and returns once it accepts connections.
func Start(opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mongotest: listen on %s: %w", addr, err)
	}
	rs := opts.ReplicaSet
	if rs == "" {
		rs = DefaultReplicaSet
	}
	if opts.Standalone {
		rs = ""
	}
	srv := server.New(server.Config{ReplicaSet: rs, Logger: opts.Logger, SweepInterval: opts.SweepInterval})
	host, _, _ := net.SplitHostPort(addr)
	srv.Serve(advertised{Listener: ln, ipv6: strings.Contains(host, ":")})
	s := &Server{srv: srv, rs: rs}
	s.uri = "mongodb://" + srv.Addr() + "/"
	if rs != "" {
		s.uri += "?replicaSet=" + rs
	}
	return s, nil
}

// advertised makes a listener on an unspecified address (":0", "0.0.0.0:0", "[::]:0")
// report a loopback address, which is what clients can dial and what a replica set
// advertises. The loopback follows the address asked for, not the socket's family: Go
// listens dual-stack on "0.0.0.0" and reports "::".
type advertised struct {
	net.Listener
	ipv6 bool
}

func (a advertised) Addr() net.Addr {
	addr := a.Listener.Addr()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		ip := net.IPv4(127, 0, 0, 1)
		if a.ipv6 {
			ip = net.IPv6loopback
		}
		return &net.TCPAddr{IP: ip, Port: tcp.Port}
	}
	return addr
}

// URI returns a connection string the official driver accepts as is, such as
// "mongodb://127.0.0.1:54321/?replicaSet=rs0".
func (s *Server) URI() string { return s.uri }

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.srv.Addr() }

// ReplicaSet returns the replica-set name the server reports, or "" when standalone.
func (s *Server) ReplicaSet() string { return s.rs }

// Close stops the server, closing every client connection. It is safe to call twice.
func (s *Server) Close() error { return s.srv.Close() }

// NewServer starts a server with default options for a test or benchmark and closes it
// when tb ends. It fails tb if the server cannot start.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start(Options{})
	if err != nil {
		tb.Fatalf("mongotest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("mongotest: close: %v", err)
		}
	})
	return s
}
