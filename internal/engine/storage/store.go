// Package storage keeps the embedded server's data: databases, collections of immutable
// records, and B-tree indexes (single-field, compound, multikey, unique, sparse, partial,
// TTL), with a planner that answers equality, range and prefix predicates from an index.
package storage

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Store is the whole catalog. It is safe for concurrent use.
type Store struct {
	mu  sync.RWMutex
	dbs map[string]map[string]*Collection
}

// New returns an empty store.
func New() *Store {
	return &Store{dbs: map[string]map[string]*Collection{}}
}

// ValidateDBName checks a database name against MongoDB's rules.
func ValidateDBName(db string) error {
	if db == "" {
		return mongoerr.Newf(mongoerr.InvalidNamespace, "Invalid database name: ''")
	}
	if len(db) >= 64 || strings.ContainsAny(db, "/\\. \"$\x00") {
		return mongoerr.Newf(mongoerr.InvalidNamespace, "Invalid database name: '%s'", db)
	}
	return nil
}

// ValidateCollectionName checks a collection name against MongoDB's rules.
func ValidateCollectionName(db, name string) error {
	switch {
	case name == "":
		return mongoerr.Newf(mongoerr.InvalidNamespace, "Invalid namespace specified '%s.'", db)
	case strings.ContainsAny(name, "$\x00") || !utf8.ValidString(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, "."):
		return mongoerr.Newf(mongoerr.InvalidNamespace, "Invalid collection name: %s", name)
	case strings.HasPrefix(name, "system.") && name != "system.js" && name != "system.views":
		return mongoerr.Newf(mongoerr.InvalidNamespace, "Invalid system namespace: %s.%s", db, name)
	case len(db)+1+len(name) > 255:
		return mongoerr.Newf(mongoerr.InvalidNamespace, "Fully qualified namespace is too long. Namespace: %s.%s Max: 255", db, name)
	}
	return nil
}

// Collection returns a collection, or nil when it does not exist.
func (s *Store) Collection(db, name string) *Collection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dbs[db][name]
}

// Create makes a collection with options; it fails with NamespaceExists when it exists.
func (s *Store) Create(db, name string, options bson.D) (*Collection, error) {
	if err := ValidateDBName(db); err != nil {
		return nil, err
	}
	if err := ValidateCollectionName(db, name); err != nil {
		return nil, err
	}
	c, err := newCollection(db, name, options)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.dbs[db][name]; exists {
		return nil, mongoerr.Newf(mongoerr.NamespaceExists, "Collection %s.%s already exists.", db, name)
	}
	if s.dbs[db] == nil {
		s.dbs[db] = map[string]*Collection{}
	}
	s.dbs[db][name] = c
	return c, nil
}

// Ensure returns a collection, creating it without options when it does not exist (the
// implicit creation of insert, update with upsert and createIndexes). created reports
// whether it did.
func (s *Store) Ensure(db, name string) (c *Collection, created bool, err error) {
	if c := s.Collection(db, name); c != nil {
		return c, false, nil
	}
	c, err = s.Create(db, name, nil)
	if mongoerr.HasCode(err, mongoerr.NamespaceExists) {
		return s.Collection(db, name), false, nil
	}
	return c, err == nil, err
}

// Drop removes a collection and reports whether it existed.
func (s *Store) Drop(db, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dbs[db][name]; !ok {
		return false
	}
	delete(s.dbs[db], name)
	if len(s.dbs[db]) == 0 {
		delete(s.dbs, db)
	}
	return true
}

// DropDatabase removes a database and all its collections.
func (s *Store) DropDatabase(db string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dbs, db)
}

// Rename moves a collection to a new namespace, replacing an existing target when
// dropTarget is set.
func (s *Store) Rename(fromDB, from, toDB, to string, dropTarget bool) error {
	if err := ValidateDBName(toDB); err != nil {
		return err
	}
	if err := ValidateCollectionName(toDB, to); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.dbs[fromDB][from]
	if !ok {
		return mongoerr.Newf(mongoerr.NamespaceNotFound, "Source collection %s.%s does not exist", fromDB, from)
	}
	if fromDB == toDB && from == to {
		return mongoerr.Newf(mongoerr.IllegalOperation, "Can't rename a collection to itself")
	}
	if _, exists := s.dbs[toDB][to]; exists {
		if !dropTarget {
			return mongoerr.Newf(mongoerr.NamespaceExists, "target namespace exists")
		}
		delete(s.dbs[toDB], to)
	}
	delete(s.dbs[fromDB], from)
	if len(s.dbs[fromDB]) == 0 {
		delete(s.dbs, fromDB)
	}
	c.mu.Lock()
	c.db, c.name = toDB, to
	c.mu.Unlock()
	if s.dbs[toDB] == nil {
		s.dbs[toDB] = map[string]*Collection{}
	}
	s.dbs[toDB][to] = c
	return nil
}

// Databases lists database names in order.
func (s *Store) Databases() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.dbs))
	for n := range s.dbs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Collections lists a database's collections ordered by name.
func (s *Store) Collections(db string) []*Collection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Collection, 0, len(s.dbs[db]))
	for _, c := range s.dbs[db] {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Collection) int { return strings.Compare(a.name, b.name) })
	return out
}

// AllCollections lists every collection of every database.
func (s *Store) AllCollections() []*Collection {
	var out []*Collection
	for _, db := range s.Databases() {
		out = append(out, s.Collections(db)...)
	}
	return out
}
