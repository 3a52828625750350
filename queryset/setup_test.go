package queryset_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"github.com/modjo-orm/modjo/queryset"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The integration tests run through the driver against the suite's server (mongotest,
// or real MongoDB when MONGODB_URI is set).

type Shop struct {
	model.Embedded
	City   string
	Street string
}

type Book struct {
	model.Model
	Title     string `modjo:"max_length=100"`
	Author    string
	Year      int
	Pages     int64
	Rating    *float64
	Genre     string
	Tags      []string `modjo:"blank"`
	Shop      Shop
	Views     int64
	Published *time.Time
}

// Author has a Meta ordering, a unique email, a default and an auto_now field.
type Author struct {
	model.Model
	Name    string
	Email   string `modjo:"unique"`
	Level   string `modjo:"default=junior"`
	Visits  int
	Touched time.Time `modjo:"auto_now"`
}

func (Author) Meta() model.Options { return model.Options{Ordering: []string{"name"}} }

// Ticket has an integer AutoField key.
type Ticket struct {
	model.Base
	ID   int64  `modjo:"primary_key"`
	Name string `modjo:"unique"`
}

// Page has a string key the program chooses.
type Page struct {
	model.Base
	Slug  string `modjo:"primary_key"`
	Title string
}

// Line has a composite key.
type Line struct {
	model.Base
	Order int64 `modjo:"primary_key"`
	No    int64 `modjo:"primary_key"`
	Qty   int
}

// Hooked counts its save hooks.
type Hooked struct {
	model.Model
	Name  string `modjo:"unique"`
	Score int
}

type hookCalls struct {
	mu     sync.Mutex
	before int
	after  int
}

var hookLog hookCalls

func (h *Hooked) BeforeSave(context.Context) error {
	hookLog.mu.Lock()
	defer hookLog.mu.Unlock()
	hookLog.before++
	return nil
}

func (h *Hooked) AfterSave(context.Context) error {
	hookLog.mu.Lock()
	defer hookLog.mu.Unlock()
	hookLog.after++
	return nil
}

var allModels = []any{Book{}, Author{}, Ticket{}, Page{}, Line{}, Hooked{}}

// newDB returns a handle on a fresh database, with a registry of its own (so signal
// receivers do not leak between tests).
func newDB(t testing.TB) *modjo.DB {
	t.Helper()
	reg := model.NewRegistry()
	require.NoError(t, reg.Register(allModels...))
	mdb := testenv.Database(t)
	return modjo.New(mdb.Client(), mdb.Name(), reg)
}

func ptr[V any](v V) *V { return &v }

var day = func(y int) *time.Time {
	t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	return &t
}

// seedBooks stores five books and returns them by title.
func seedBooks(t testing.TB, db *modjo.DB) map[string]*Book {
	t.Helper()
	books := []*Book{
		{Title: "Dune", Author: "Herbert", Year: 1965, Pages: 412, Rating: ptr(4.5), Genre: "scifi", Tags: []string{"scifi"}, Shop: Shop{City: "Paris", Street: "Rue A"}, Views: 10, Published: day(1965)},
		{Title: "Emma", Author: "Austen", Year: 1815, Pages: 474, Genre: "classic", Tags: []string{"classic"}, Shop: Shop{City: "London"}, Views: 5},
		{Title: "Go in Action", Author: "Kennedy", Year: 2015, Pages: 264, Rating: ptr(4.0), Genre: "programming", Tags: []string{"go", "programming"}, Shop: Shop{City: "Paris"}, Published: day(2015)},
		{Title: "Hyperion", Author: "Simmons", Year: 1989, Pages: 482, Rating: ptr(4.3), Genre: "scifi", Tags: []string{"scifi"}, Views: 7, Published: day(1989)},
		{Title: "Neuromancer", Author: "Gibson", Year: 1984, Pages: 271, Genre: "scifi", Tags: []string{"scifi", "cyberpunk"}, Shop: Shop{City: "Berlin"}, Views: 3},
	}
	require.NoError(t, queryset.Objects[Book](db).BulkCreate(context.Background(), books))
	out := map[string]*Book{}
	for _, b := range books {
		out[b.Title] = b
	}
	return out
}

func titles(books []Book) []string {
	out := make([]string, len(books))
	for i, b := range books {
		out[i] = b.Title
	}
	return out
}

func sortedTitles(books []Book) []string {
	out := titles(books)
	slices.Sort(out)
	return out
}

// commandLog records the commands a client sends.
type commandLog struct {
	mu   sync.Mutex
	cmds []bson.Raw
}

func (l *commandLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.cmds))
	for _, c := range l.cmds {
		if el, err := c.IndexErr(0); err == nil {
			out = append(out, el.Key())
		}
	}
	return out
}

func (l *commandLog) last() bson.Raw {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cmds[len(l.cmds)-1]
}

func (l *commandLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = nil
}

// monitored returns a handle on the same database through a client of its own that
// logs every command it sends (handshakes and heartbeats are not commands here).
func monitored(t testing.TB, db *modjo.DB) (*modjo.DB, *commandLog) {
	t.Helper()
	log := &commandLog{}
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "endSessions", "hello", "isMaster", "ping":
			return
		}
		log.mu.Lock()
		log.cmds = append(log.cmds, slices.Clone(e.Command))
		log.mu.Unlock()
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(testenv.Get(t).URI).SetMonitor(mon))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return modjo.New(client, db.Database().Name(), db.Registry()), log
}

// ensureIndexes creates the models' indexes (the unique ones matter here).
func ensureIndexes(t testing.TB, db *modjo.DB) {
	t.Helper()
	require.NoError(t, db.EnsureIndexes(context.Background()))
}

// stored reads a document straight from the collection.
func stored(t testing.TB, db *modjo.DB, v any, filter bson.D) bson.Raw {
	t.Helper()
	meta, err := db.Registry().Meta(v)
	require.NoError(t, err)
	raw, err := db.Collection(meta).FindOne(context.Background(), filter).Raw()
	require.NoError(t, err)
	return raw
}

func count(t testing.TB, db *modjo.DB, v any, filter bson.D) int64 {
	t.Helper()
	meta, err := db.Registry().Meta(v)
	require.NoError(t, err)
	n, err := db.Collection(meta).CountDocuments(context.Background(), filter)
	require.NoError(t, err)
	return n
}
