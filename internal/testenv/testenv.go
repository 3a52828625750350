// Package testenv chooses the MongoDB server a test suite runs against, once per test
// binary, and hands out isolated databases on it:
//
//  1. MONGODB_URI, when set;
//  2. else a MongoDB 8 replica set in Docker through testcontainers-go, when a Docker
//     engine answers;
//  3. else an embedded mongotest server.
//
// MODJO_TEST_SERVER=mongotest skips the Docker probe. The choice is reported once on
// stderr. A test that needs something the chosen server lacks calls Require and is
// skipped with the reason.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/mongotest"
	"github.com/testcontainers/testcontainers-go"
	tcmongo "github.com/testcontainers/testcontainers-go/modules/mongodb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Kind names the server a suite runs against.
type Kind string

// The kinds of server.
const (
	External  Kind = "MONGODB_URI"
	Container Kind = "testcontainers"
	Embedded  Kind = "mongotest"
)

// Env is the chosen server and a client connected to it.
type Env struct {
	Kind   Kind
	URI    string
	Client *mongo.Client
	// ReplicaSet reports whether the server is a replica-set member (transactions and
	// change streams need one).
	ReplicaSet bool
}

var (
	once   sync.Once
	shared *Env
	setErr error
)

// Get returns the suite's server, starting or connecting to it on first use.
func Get(tb testing.TB) *Env {
	tb.Helper()
	once.Do(func() { shared, setErr = setup() })
	if setErr != nil {
		tb.Fatalf("testenv: %v", setErr)
	}
	return shared
}

func setup() (*Env, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := &Env{}
	switch uri := os.Getenv("MONGODB_URI"); {
	case uri != "":
		env.Kind, env.URI = External, uri
	case os.Getenv("MODJO_TEST_SERVER") != "mongotest" && dockerAnswers(ctx):
		c, err := tcmongo.Run(ctx, "mongo:8", tcmongo.WithReplicaSet("rs0"))
		if err != nil {
			return nil, fmt.Errorf("start MongoDB container: %w", err)
		}
		uri, err := c.ConnectionString(ctx)
		if err != nil {
			return nil, err
		}
		env.Kind, env.URI = Container, uri
	default:
		srv, err := mongotest.Start(mongotest.Options{})
		if err != nil {
			return nil, err
		}
		env.Kind, env.URI = Embedded, srv.URI()
	}
	client, err := mongo.Connect(options.Client().ApplyURI(env.URI))
	if err != nil {
		return nil, err
	}
	var hello struct {
		SetName string `bson:"setName"`
	}
	if err := client.Database("admin").RunCommand(ctx, map[string]int{"hello": 1}).Decode(&hello); err != nil {
		return nil, fmt.Errorf("reach %s server at %s: %w", env.Kind, redact(env.URI), err)
	}
	env.Client, env.ReplicaSet = client, hello.SetName != ""
	fmt.Fprintf(os.Stderr, "testenv: running against %s (%s)\n", env.Kind, redact(env.URI))
	return env, nil
}

// dockerAnswers reports whether a Docker engine responds, within a few seconds.
func dockerAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return false
	}
	defer provider.Close()
	return provider.Health(ctx) == nil
}

// redact hides credentials in a connection string.
func redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "…@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// Database returns a fresh database for one test, dropped when the test ends.
func Database(tb testing.TB) *mongo.Database {
	tb.Helper()
	env := Get(tb)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	db := env.Client.Database(name)
	tb.Cleanup(func() { _ = db.Drop(context.Background()) })
	return db
}

// Feature is something a test may need from the server.
type Feature string

// Features tests can require.
const (
	// ReplicaSet: transactions, change streams.
	ReplicaSet Feature = "a replica set"
	// Embedded: behaviour only mongotest has, such as its own error messages.
	EmbeddedOnly Feature = "the embedded mongotest server"
)

// Require skips tb, naming the reason, when the chosen server lacks f.
func Require(tb testing.TB, f Feature) {
	tb.Helper()
	env := Get(tb)
	var have bool
	switch f {
	case ReplicaSet:
		have = env.ReplicaSet
	case EmbeddedOnly:
		have = env.Kind == Embedded
	}
	if !have {
		tb.Skipf("needs %s; running against %s", f, env.Kind)
	}
}
