// Package match compiles and evaluates MongoDB query filters: the language of find's filter,
// $match, update and delete selectors, collection validators and partial indexes.
//
// A filter is compiled once into a tree of nodes (Compile); evaluation (Match) walks the
// document along the compiled field paths without re-parsing and without allocating in the
// common cases. The semantics follow mongod's matcher: implicit traversal of arrays along
// dotted paths (with numeric path components addressing array positions), null matching
// missing fields, type bracketing for range operators, MinKey/MaxKey comparing with every
// type, and the "elemMatchKey" bookkeeping the positional $ operator relies on.
package match

import (
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Options configures compilation.
type Options struct {
	// Vars names user variables (without "$$") that $expr may reference (from a command's or
	// $lookup's let).
	Vars []string
}

// Matcher is a compiled query filter. It is immutable and safe for concurrent use.
type Matcher struct {
	root node // nil for an empty filter, which matches every document
}

// Compile parses a query filter. A nil opts is allowed.
func Compile(filter bson.D, opts *Options) (*Matcher, error) {
	p := newParser(opts)
	if len(filter) == 0 {
		return &Matcher{}, nil
	}
	n, err := p.parseFilter(filter, levelTop)
	if err != nil {
		return nil, err
	}
	return &Matcher{root: n}, nil
}

// Match reports whether doc satisfies the filter. env feeds $expr ($$NOW, let variables); it
// may be nil.
func (m *Matcher) Match(doc bson.D, env *expr.Env) (bool, error) {
	if m == nil || m.root == nil {
		return true, nil
	}
	ok, _, err := m.root.eval(doc, env)
	return ok, err
}

// MatchPosition is Match that also returns the index of the array element that satisfied the
// filter's array condition, for the positional $ operator of updates and projections
// (MongoDB's "elemMatchKey" semantics: the first array on the matched path); -1 when no array
// element was involved.
func (m *Matcher) MatchPosition(doc bson.D, env *expr.Env) (matched bool, pos int, err error) {
	if m == nil || m.root == nil {
		return true, -1, nil
	}
	ok, pos, err := m.root.eval(doc, env)
	if err != nil || !ok {
		return false, -1, err
	}
	return true, pos, nil
}

// IsEmpty reports whether the filter has no conditions, so that it matches every document.
func (m *Matcher) IsEmpty() bool { return m == nil || m.root == nil }

// ElementMatcher tests single values, as $pull conditions need: it is immutable and safe for
// concurrent use.
type ElementMatcher struct {
	wrapped pred  // an operator document or regex, applied to the value as to a field
	query   node  // a query document, applied to values that are documents
	eq      any   // anything else: whole-value equality
	kind    uint8 // which of the three is set
}

const (
	elemWrapped uint8 = iota
	elemQuery
	elemEqual
)

// CompileElement parses cond: a document of query operators ({$gte: 5}) tests the value itself
// (an array value is also tested element by element, as a field would be); any other document
// is a query applied to the value when it is a document; anything else is equality.
func CompileElement(cond any, opts *Options) (*ElementMatcher, error) {
	p := newParser(opts)
	switch c := cond.(type) {
	case bson.D:
		if len(c) > 0 && isPathOperator(c[0].Key) {
			preds, err := p.parseSub("", c, levelTop)
			if err != nil {
				return nil, err
			}
			return &ElementMatcher{kind: elemWrapped, wrapped: andOf(preds)}, nil
		}
		n, err := p.parseFilter(c, levelTop)
		if err != nil {
			return nil, err
		}
		return &ElementMatcher{kind: elemQuery, query: n}, nil
	case bson.Regex:
		l, err := newRegexLeaf(c.Pattern, c.Options)
		if err != nil {
			return nil, err
		}
		return &ElementMatcher{kind: elemWrapped, wrapped: &leafPred{l: l}}, nil
	}
	return &ElementMatcher{kind: elemEqual, eq: cond}, nil
}

// MatchValue reports whether v satisfies the condition. env feeds $expr inside a query
// condition; it may be nil.
func (m *ElementMatcher) MatchValue(v any, env *expr.Env) (bool, error) {
	switch m.kind {
	case elemWrapped:
		ok, _ := m.wrapped.onValue(v)
		return ok, nil
	case elemQuery:
		d, isDoc := v.(bson.D)
		if !isDoc {
			return false, nil
		}
		ok, _, err := m.query.eval(d, env)
		return ok, err
	}
	return value.Compare(v, m.eq) == 0, nil
}
