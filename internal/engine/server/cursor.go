package server

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// cursorIdleTimeout is how long an unused cursor lives, as in MongoDB (10 minutes).
const cursorIdleTimeout = 10 * time.Minute

// maxBatchBytes caps the documents of one reply batch, as MongoDB does (16 MiB).
const maxBatchBytes = 16 * 1024 * 1024

// defaultFirstBatch is the first batch size when the client gives none.
const defaultFirstBatch = 101

// cursor holds the rest of a result set between getMore calls. Results are computed
// when the cursor is opened, so later writes do not affect them.
type cursor struct {
	id       int64
	ns       string
	docs     []bson.Raw
	lastUsed time.Time
	mu       sync.Mutex // one getMore at a time
}

type cursors struct {
	mu   sync.Mutex
	byID map[int64]*cursor
}

func newCursors() *cursors { return &cursors{byID: map[int64]*cursor{}} }

// batch splits docs into the first batch (at most n documents, or every document when n
// is 0, within maxBatchBytes) and the rest.
func batch(docs []bson.Raw, n int) (first []bson.Raw, rest []bson.Raw) {
	size := 0
	i := 0
	for ; i < len(docs); i++ {
		if n > 0 && i >= n {
			break
		}
		size += len(docs[i])
		if size > maxBatchBytes && i > 0 {
			break
		}
	}
	return docs[:i], docs[i:]
}

// open registers the remaining documents of a result set and returns the cursor id, or 0
// when there is nothing left.
func (cs *cursors) open(ns string, rest []bson.Raw) int64 {
	if len(rest) == 0 {
		return 0
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	id := rand.Int64N(1<<62) + 1
	for cs.byID[id] != nil {
		id = rand.Int64N(1<<62) + 1
	}
	cs.byID[id] = &cursor{id: id, ns: ns, docs: rest, lastUsed: time.Now()}
	return id
}

// next returns the next batch of a cursor and whether it is exhausted (and removed).
func (cs *cursors) next(id int64, ns string, n int) ([]bson.Raw, bool, error) {
	cs.mu.Lock()
	c := cs.byID[id]
	cs.mu.Unlock()
	if c == nil {
		return nil, false, mongoerr.Newf(mongoerr.CursorNotFound, "cursor id %d not found", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ns != ns {
		return nil, false, mongoerr.Newf(13, "Requested getMore on namespace '%s', but cursor belongs to a different namespace %s", ns, c.ns)
	}
	out, rest := batch(c.docs, n)
	c.docs = rest
	c.lastUsed = time.Now()
	if len(rest) == 0 {
		cs.kill(id)
		return out, true, nil
	}
	return out, false, nil
}

func (cs *cursors) kill(id int64) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	_, ok := cs.byID[id]
	delete(cs.byID, id)
	return ok
}

// expire removes cursors idle for longer than cursorIdleTimeout.
func (cs *cursors) expire(now time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.byID {
		if c.mu.TryLock() {
			idle := now.Sub(c.lastUsed) > cursorIdleTimeout
			c.mu.Unlock()
			if idle {
				delete(cs.byID, id)
			}
		}
	}
}

func (cs *cursors) count() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.byID)
}

// cursorReply builds {cursor: {firstBatch|nextBatch: [...], id, ns}, ok: 1}.
func cursorReply(key string, docs []bson.Raw, id int64, ns string) bson.D {
	arr := make(bson.A, len(docs))
	for i, d := range docs {
		arr[i] = d
	}
	return bson.D{
		{Key: "cursor", Value: bson.D{{Key: key, Value: arr}, {Key: "id", Value: id}, {Key: "ns", Value: ns}}},
		{Key: "ok", Value: 1.0},
	}
}
