package queryset

import (
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/compiler"
	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
)

// QuerySet is a lazy, immutable query over the documents of model T: Django's
// QuerySet. Chaining methods (Filter, OrderBy, Limit, …) return a new QuerySet and never
// change the receiver, so a QuerySet can be kept, extended in several directions and
// shared between goroutines. Nothing runs until an evaluating method (All, Iter, Get,
// Count, Update, …) is called; each takes a context and returns an error.
//
// A chaining method does not return errors: the first mistake (a negative limit, an
// unknown ordering term, a filter after a slice) is recorded and returned by every
// evaluating method. Unknown fields and lookups are reported when the query is compiled,
// also at evaluation, as a *model.FieldError.
//
// The conditions and values handed to a QuerySet (expr.Q maps, expr.Set) are kept, not
// copied: do not modify them afterwards.
type QuerySet[T any] struct {
	db     *modjo.DB
	meta   *model.Meta
	err    error
	q      compiler.Query
	sliced bool // Limit, Offset or Slice narrowed the window (Django's is_sliced)
}

// Objects returns a QuerySet of every document of model T, a registered model struct
// type (Book, not *Book), on db: Django's Book.objects.all(). When T is not a model of
// db's registry, the error is recorded and returned at evaluation.
func Objects[T any](db *modjo.DB) *QuerySet[T] {
	qs := &QuerySet[T]{db: db}
	qs.meta, qs.err = metaOf[T](db)
	qs.q.Meta = qs.meta
	return qs
}

// metaOf finds T's metadata in db's registry.
func metaOf[T any](db *modjo.DB) (*model.Meta, error) {
	t := reflect.TypeFor[T]()
	if db == nil {
		return nil, &qsError{op: "queryset", model: t.Name(), msg: "nil *modjo.DB"}
	}
	if t.Kind() != reflect.Struct {
		return nil, &qsError{op: "queryset", model: t.String(), msg: "the type argument must be a model struct type (Book, not *Book)", sentinel: model.ErrNotRegistered}
	}
	meta, err := db.Registry().Meta(t)
	if err != nil {
		return nil, &qsError{op: "queryset", model: t.Name(), err: err}
	}
	if meta.Embedded {
		return nil, &qsError{op: "queryset", model: meta.Name, msg: "an embedded model has no collection to query", sentinel: model.ErrNotSupported}
	}
	return meta, nil
}

// Model returns the metadata of T (nil when T is not a registered model).
func (qs *QuerySet[T]) Model() *model.Meta { return qs.meta }

// clone returns a copy to modify. The slices of the copy's Query are shared with the
// receiver: they are replaced, never modified in place.
func (qs *QuerySet[T]) clone() *QuerySet[T] {
	c := *qs
	return &c
}

// fail returns a copy carrying the error, unless one is recorded already (the first
// mistake is the one reported).
func (qs *QuerySet[T]) fail(op, format string, args ...any) *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	c := qs.clone()
	c.err = &qsError{op: op, model: modelName(qs.meta), msg: fmt.Sprintf(format, args...)}
	return c
}

// failSliced records Django's refusal to change a sliced query: the window was taken on
// the old filter and order, and MongoDB's find applies skip and limit last.
func (qs *QuerySet[T]) failSliced(op, what string) *QuerySet[T] {
	return qs.fail(op, "cannot %s a query once a slice has been taken", what)
}

// Filter returns a QuerySet of the documents that also match every condition (expr.Q
// maps of lookups, or And/Or/Not combinations of them): Django's filter(). Conditions
// are ANDed with the ones already there.
func (qs *QuerySet[T]) Filter(conds ...expr.Condition) *QuerySet[T] {
	if qs.err != nil || expr.And(conds...) == nil {
		return qs
	}
	if qs.sliced {
		return qs.failSliced("Filter", "filter")
	}
	c := qs.clone()
	c.q.Where = expr.And(append([]expr.Condition{qs.q.Where}, conds...)...)
	return c
}

// Exclude returns a QuerySet without the documents that match all of the conditions:
// Django's exclude(), which is NOT (c1 AND c2 …). A document whose field is null or
// missing is kept by Exclude(Q{"name": "x"}), as SQL's NULL rules keep the row.
func (qs *QuerySet[T]) Exclude(conds ...expr.Condition) *QuerySet[T] {
	cond := expr.And(conds...)
	if qs.err != nil || cond == nil {
		return qs
	}
	if qs.sliced {
		return qs.failSliced("Exclude", "filter")
	}
	c := qs.clone()
	c.q.Where = expr.And(qs.q.Where, expr.Not(cond))
	return c
}

// OrderBy returns a QuerySet ordered by the terms, replacing any earlier ordering and
// the model's default one: field names ("title", "-published" for descending, "pk",
// "shop__city"), "?" for a random order, expr.Ordering values for nulls placement
// (expr.F("published").Desc().NullsLast()) and expr.Expr values (ascending). With no
// terms the result is not ordered at all, not even by the model's Meta ordering.
func (qs *QuerySet[T]) OrderBy(terms ...any) *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	if qs.sliced {
		return qs.failSliced("OrderBy", "reorder")
	}
	var order []any
	for _, t := range terms {
		switch x := t.(type) {
		case string:
			if x == "" || x == "-" || x == "+" {
				return qs.fail("OrderBy", "an empty field name")
			}
			order = append(order, expr.ParseOrdering(x))
		case expr.Ordering:
			if x.Expr == nil {
				return qs.fail("OrderBy", "an expr.Ordering without an expression")
			}
			order = append(order, x)
		case expr.Random, *expr.Random:
			order = append(order, expr.Random{})
		case expr.Expr:
			if x.Node == nil {
				return qs.fail("OrderBy", "an empty expr.Expr")
			}
			order = append(order, x.Asc())
		default:
			return qs.fail("OrderBy", "a term must be a field name (\"-name\" for descending), \"?\", an expr.Ordering or an expr.Expr, not %T", t)
		}
	}
	c := qs.clone()
	c.q.Order = order
	c.q.ClearOrder = len(order) == 0
	return c
}

// Reverse returns a QuerySet in the opposite order (every term reversed, nulls
// placement too): Django's reverse(). It has no effect on a QuerySet without an order.
func (qs *QuerySet[T]) Reverse() *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	if qs.sliced {
		return qs.failSliced("Reverse", "reverse")
	}
	c := qs.clone()
	c.q.Reverse = !qs.q.Reverse
	return c
}

// Distinct returns a QuerySet without duplicates: Django's distinct(). Without field
// names it removes duplicate rows of Values and ValuesList (documents are always
// distinct); with names (Django's DISTINCT ON) it keeps one document per distinct
// combination of those fields, the first in the QuerySet's order. A later call replaces
// an earlier one.
func (qs *QuerySet[T]) Distinct(fields ...string) *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	if qs.sliced {
		return qs.failSliced("Distinct", "create distinct fields for")
	}
	c := qs.clone()
	c.q.Distinct = len(fields) == 0
	c.q.DistinctOn = nil
	if len(fields) > 0 {
		c.q.DistinctOn = slices.Clone(fields)
	}
	return c
}

// Limit returns a QuerySet of at most n documents of the current window: Django's
// qs[:n]. Limit(0) matches nothing; a negative n is an error.
func (qs *QuerySet[T]) Limit(n int64) *QuerySet[T] {
	if n < 0 {
		return qs.fail("Limit", "negative limit %d", n)
	}
	return qs.window(0, n)
}

// Offset returns a QuerySet that skips the first n documents of the current window:
// Django's qs[n:]. A negative n is an error.
func (qs *QuerySet[T]) Offset(n int64) *QuerySet[T] {
	if n < 0 {
		return qs.fail("Offset", "negative offset %d", n)
	}
	return qs.window(n, -1)
}

// Slice returns the documents from index from (included) to index to (excluded) of the
// current window: Django's qs[from:to]. Slices combine like Python's: Slice(2, 10) then
// Slice(1, 3) is the original's [3:5]. A negative index is an error (Django does not
// support them either); to ≤ from matches nothing.
func (qs *QuerySet[T]) Slice(from, to int64) *QuerySet[T] {
	if from < 0 || to < 0 {
		return qs.fail("Slice", "negative indexing is not supported (Slice(%d, %d))", from, to)
	}
	return qs.window(from, to)
}

// window narrows the current window [Offset, Offset+Limit) (open when Limit is 0) to
// its sub-window [from, to); to < 0 leaves the end where it is.
func (qs *QuerySet[T]) window(from, to int64) *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	c := qs.clone()
	c.sliced = true
	if qs.q.Empty {
		return c
	}
	lo, hi := qs.q.Offset, int64(-1) // hi < 0: open
	if qs.q.Limit > 0 {
		hi = lo + qs.q.Limit
	}
	if from > math.MaxInt64-lo { // beyond any collection
		c.q.Empty = true
		return c
	}
	newLo := lo + from
	newHi := hi
	if to >= 0 {
		end := int64(math.MaxInt64)
		if to <= math.MaxInt64-lo {
			end = lo + to
		}
		if newHi < 0 || end < newHi {
			newHi = end
		}
	}
	if newHi >= 0 && newHi <= newLo {
		c.q.Empty = true
		return c
	}
	c.q.Offset = newLo
	c.q.Limit = 0
	if newHi >= 0 {
		c.q.Limit = newHi - newLo
	}
	c.sliced = c.q.Offset != 0 || c.q.Limit != 0
	return c
}

// Only returns a QuerySet that loads only the named fields (and the primary key):
// Django's only(). It replaces an earlier Only; fields deferred by an earlier Defer stay
// unloaded. The instances remember what was not loaded (model.State.Deferred), so a
// later Save writes only the loaded fields and cannot erase the others.
func (qs *QuerySet[T]) Only(fields ...string) *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	only := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		if !slices.Contains(qs.q.Defer, f) && !slices.Contains(only, f) {
			only = append(only, f)
		}
	}
	if len(only) == 0 {
		only = append(only, "pk")
	}
	c := qs.clone()
	c.q.Only, c.q.Defer = only, nil
	return c
}

// Defer returns a QuerySet that does not load the named fields: Django's defer().
// Deferrals add up; after Only, Defer removes names from the loaded set. Defer() with no
// names clears every deferral (and Only), as Django's defer(None).
func (qs *QuerySet[T]) Defer(fields ...string) *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	c := qs.clone()
	switch {
	case len(fields) == 0:
		c.q.Only, c.q.Defer = nil, nil
	case qs.q.Only != nil:
		only := make([]string, 0, len(qs.q.Only))
		for _, f := range qs.q.Only {
			if !slices.Contains(fields, f) {
				only = append(only, f)
			}
		}
		if len(only) == 0 {
			only = append(only, "pk")
		}
		c.q.Only = only
	default:
		deferred := slices.Clone(qs.q.Defer)
		for _, f := range fields {
			if !slices.Contains(deferred, f) {
				deferred = append(deferred, f)
			}
		}
		c.q.Defer = deferred
	}
	return c
}

// None returns a QuerySet that matches nothing: Django's none(). Evaluating it sends no
// query at all.
func (qs *QuerySet[T]) None() *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	c := qs.clone()
	c.q.Empty = true
	return c
}

// Using returns the QuerySet on another database handle, Django's using(): T must be a
// model of that handle's registry.
func (qs *QuerySet[T]) Using(db *modjo.DB) *QuerySet[T] {
	c := qs.clone()
	meta, err := metaOf[T](db)
	c.db = db
	if err != nil {
		if qs.err == nil {
			c.err = err
		}
		return c
	}
	c.meta, c.q.Meta = meta, meta
	return c
}

// BatchSize returns a QuerySet that fetches n documents per round trip (the cursor's
// batch size; 0 is the server's default). Iter holds at most one batch in memory.
func (qs *QuerySet[T]) BatchSize(n int32) *QuerySet[T] {
	if n < 0 {
		return qs.fail("BatchSize", "negative batch size %d", n)
	}
	if qs.err != nil {
		return qs
	}
	c := qs.clone()
	c.q.BatchSize = n
	return c
}

// ordered reports whether the QuerySet has an order (its own or the model's): Django's
// QuerySet.ordered, which First and Last consult.
func (qs *QuerySet[T]) ordered() bool {
	return len(qs.q.Order) > 0 || (!qs.q.ClearOrder && qs.meta != nil && len(qs.meta.Options.Ordering) > 0)
}

// Err reports the first mistake recorded while building the QuerySet, or nil; the
// evaluating methods return it too.
func (qs *QuerySet[T]) Err() error { return qs.err }

// compile lowers the QuerySet to the command Select gives.
func (qs *QuerySet[T]) compile(op string) (*compiler.Command, error) {
	if qs.err != nil {
		return nil, qs.err
	}
	cmd, err := compiler.Select(&qs.q)
	if err != nil {
		return nil, wrap(op, qs.meta, err)
	}
	return cmd, nil
}

// MQL returns the command an evaluation of the QuerySet's rows (All, Iter) runs, as
// relaxed extended JSON: exactly the document sent to the server. For a QuerySet made
// empty by None or a slice, it is the compiled form of "nothing", which is not sent. A
// QuerySet with a recorded error gives "error: " and the error.
func (qs *QuerySet[T]) MQL() string {
	cmd, err := qs.compile("MQL")
	if err != nil {
		return "error: " + err.Error()
	}
	return cmd.String()
}

// String returns MQL().
func (qs *QuerySet[T]) String() string { return qs.MQL() }

// notSupported returns an error wrapping ErrNotSupported with the reason.
func notSupported(op string, meta *model.Meta, reason string) error {
	return &qsError{op: op, model: modelName(meta), msg: reason, sentinel: model.ErrNotSupported}
}
