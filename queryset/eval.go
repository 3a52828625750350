package queryset

import (
	"context"
	"iter"
	"maps"
	"reflect"
	"strconv"

	"github.com/modjo-orm/modjo/compiler"
	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// run sends a compiled command and returns its cursor, set to fetch the QuerySet's
// batch size on every getMore as well.
func (qs *QuerySet[T]) run(ctx context.Context, op string, cmd *compiler.Command) (*mongo.Cursor, error) {
	cur, err := qs.db.Database().RunCommandCursor(ctx, cmd.Doc)
	if err != nil {
		return nil, wrap(op, qs.meta, err)
	}
	if qs.q.BatchSize > 0 {
		cur.SetBatchSize(qs.q.BatchSize)
	}
	return cur, nil
}

// closeCursor releases a cursor even when ctx is already cancelled, so the server does
// not keep it open until it times out.
func closeCursor(ctx context.Context, cur *mongo.Cursor) {
	_ = cur.Close(context.WithoutCancel(ctx))
}

// deferredOf lists, from a command's loaded fields, the fields a partial load leaves
// out; nil when every field is loaded.
func deferredOf(meta *model.Meta, loaded []string) map[string]bool {
	if loaded == nil {
		return nil
	}
	out := map[string]bool{}
	for _, f := range meta.Fields {
		if !f.PrimaryKey && f != meta.PK {
			out[f.Name] = true
		}
	}
	for _, name := range loaded {
		if f, ok := meta.Field(name); ok {
			delete(out, f.Name)
		}
	}
	return out
}

// decode fills obj from a fetched document and records the fields it did not load.
func (qs *QuerySet[T]) decode(raw bson.Raw, obj *T, deferred map[string]bool) error {
	if err := qs.meta.Decode(raw, obj); err != nil {
		return err
	}
	if deferred != nil {
		// Each instance gets its own map: a program may change one instance's state.
		model.EnsureState(obj).Deferred = maps.Clone(deferred)
	}
	return nil
}

// All runs the query and returns every instance it matches, in order.
func (qs *QuerySet[T]) All(ctx context.Context) ([]T, error) {
	return qs.all(ctx, "all")
}

func (qs *QuerySet[T]) all(ctx context.Context, op string) ([]T, error) {
	if qs.err != nil {
		return nil, qs.err
	}
	if qs.q.Empty {
		return []T{}, nil
	}
	cmd, err := qs.compile(op)
	if err != nil {
		return nil, err
	}
	cur, err := qs.run(ctx, op, cmd)
	if err != nil {
		return nil, err
	}
	defer closeCursor(ctx, cur)
	deferred := deferredOf(qs.meta, cmd.Loaded)
	// The first batch is on hand: its length is a good first capacity.
	out := make([]T, 0, max(cur.RemainingBatchLength(), 1))
	for cur.Next(ctx) {
		// Decoding in place avoids copying each instance into the slice.
		out = append(out, *new(T))
		if err := qs.decode(cur.Current, &out[len(out)-1], deferred); err != nil {
			return nil, wrap(op, qs.meta, err)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, wrap(op, qs.meta, err)
	}
	return out, nil
}

// Iter runs the query and streams its instances, fetching one batch at a time (see
// BatchSize): only the current batch is held in memory. An error is yielded once, with a
// zero T, and ends the sequence. Breaking out of the loop closes the cursor.
//
//	for b, err := range queryset.Objects[Book](db).Iter(ctx) {
//		if err != nil {
//			return err
//		}
//		…
//	}
func (qs *QuerySet[T]) Iter(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if qs.err != nil {
			yield(zero, qs.err)
			return
		}
		if qs.q.Empty {
			return
		}
		cmd, err := qs.compile("iter")
		if err != nil {
			yield(zero, err)
			return
		}
		cur, err := qs.run(ctx, "iter", cmd)
		if err != nil {
			yield(zero, err)
			return
		}
		defer closeCursor(ctx, cur)
		deferred := deferredOf(qs.meta, cmd.Loaded)
		for cur.Next(ctx) {
			var v T
			if err := qs.decode(cur.Current, &v, deferred); err != nil {
				yield(zero, wrap("iter", qs.meta, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(zero, wrap("iter", qs.meta, err))
		}
	}
}

// Get returns the one instance matching the QuerySet and the conditions: Django's
// get(). No match is an error wrapping ErrDoesNotExist, several one wrapping
// ErrMultipleObjectsReturned; both name the model and the filter. It fetches at most
// two documents.
func (qs *QuerySet[T]) Get(ctx context.Context, conds ...expr.Condition) (T, error) {
	return qs.get(ctx, "get", conds)
}

func (qs *QuerySet[T]) get(ctx context.Context, op string, conds []expr.Condition) (T, error) {
	var zero T
	c := qs.Filter(conds...)
	if c.err != nil {
		return zero, c.err
	}
	if !c.sliced && len(c.q.DistinctOn) == 0 && (len(c.q.Order) > 0 || !c.q.ClearOrder) {
		// The order cannot change which documents match; not sorting is cheaper.
		c = c.clone()
		c.q.Order, c.q.ClearOrder = nil, true
	}
	c = c.window(0, 2)
	rows, err := c.all(ctx, op)
	if err != nil {
		return zero, err
	}
	switch len(rows) {
	case 1:
		return rows[0], nil
	case 0:
		return zero, c.notFound(op)
	}
	return zero, &qsError{op: op, model: c.meta.Name, msg: "more than one " + c.meta.Name + " matches", filter: c.describeFilter(), sentinel: model.ErrMultipleObjectsReturned}
}

// notFound is the ErrDoesNotExist error of Get, First and friends.
func (qs *QuerySet[T]) notFound(op string) error {
	return &qsError{op: op, model: qs.meta.Name, msg: qs.meta.Name + " matching query does not exist", filter: qs.describeFilter(), sentinel: model.ErrDoesNotExist}
}

// describeFilter renders the QuerySet's filter for an error message.
func (qs *QuerySet[T]) describeFilter() string {
	if qs.q.Empty {
		return "none"
	}
	doc, err := compiler.FilterDoc(qs.meta, qs.q.Where)
	if err != nil {
		return "?"
	}
	if doc == nil {
		doc = bson.D{}
	}
	b, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		return "?"
	}
	return string(b)
}

// orderByPK orders by the primary key, ascending or descending: First and Last on a
// QuerySet without an order.
func (qs *QuerySet[T]) orderByPK(op string, desc bool) *QuerySet[T] {
	if qs.err != nil {
		return qs
	}
	if qs.sliced {
		return qs.failSliced(op, "reorder")
	}
	c := qs.clone()
	c.q.Order = []any{expr.Ordering{Expr: expr.FieldRef{Name: "pk"}, Desc: desc}}
	c.q.ClearOrder = false
	return c
}

// one runs a QuerySet limited to one document and returns it, or ErrDoesNotExist.
func (qs *QuerySet[T]) one(ctx context.Context, op string) (T, error) {
	var zero T
	c := qs.window(0, 1)
	rows, err := c.all(ctx, op)
	if err != nil {
		return zero, err
	}
	if len(rows) == 0 {
		return zero, qs.notFound(op)
	}
	return rows[0], nil
}

// First returns the first instance in the QuerySet's order, or by primary key when it
// has none: Django's first(). An empty QuerySet gives an error wrapping
// ErrDoesNotExist (Django returns None).
func (qs *QuerySet[T]) First(ctx context.Context) (T, error) {
	c := qs
	if !c.ordered() {
		c = c.orderByPK("First", false)
	}
	return c.one(ctx, "first")
}

// Last returns the last instance in the QuerySet's order, or by primary key when it has
// none: Django's last(). An empty QuerySet gives an error wrapping ErrDoesNotExist.
func (qs *QuerySet[T]) Last(ctx context.Context) (T, error) {
	c := qs
	if c.ordered() {
		c = c.Reverse()
	} else {
		c = c.orderByPK("Last", true)
	}
	return c.one(ctx, "last")
}

// Earliest returns the first instance ordered by the fields ("-name" for descending),
// or by the model's Meta ordering when none are given (Django's get_latest_by has no
// counterpart in model.Options): Django's earliest(). No match gives ErrDoesNotExist.
func (qs *QuerySet[T]) Earliest(ctx context.Context, fields ...string) (T, error) {
	return qs.earliest(ctx, "earliest", fields)
}

// Latest is Earliest in reverse: the last instance ordered by the fields. As in Django,
// it reverses the QuerySet, so on an already reversed QuerySet it gives the earliest.
func (qs *QuerySet[T]) Latest(ctx context.Context, fields ...string) (T, error) {
	if qs.err == nil && qs.sliced {
		var zero T
		return zero, qs.failSliced("latest", "change").err
	}
	return qs.Reverse().earliest(ctx, "latest", fields)
}

func (qs *QuerySet[T]) earliest(ctx context.Context, op string, fields []string) (T, error) {
	var zero T
	if qs.err != nil {
		return zero, qs.err
	}
	if qs.sliced {
		return zero, qs.failSliced(op, "change").err
	}
	if len(fields) == 0 {
		fields = qs.meta.Options.Ordering
	}
	if len(fields) == 0 {
		return zero, &qsError{op: op, model: qs.meta.Name, msg: "give field names, or an ordering in the model's Meta options"}
	}
	terms := make([]any, len(fields))
	for i, f := range fields {
		terms[i] = f
	}
	return qs.OrderBy(terms...).one(ctx, op)
}

// Count returns the number of documents the QuerySet matches (within its window), with
// an aggregate of $match and $count that MongoDB answers from an index when the filter
// allows.
func (qs *QuerySet[T]) Count(ctx context.Context) (int64, error) {
	if qs.err != nil {
		return 0, qs.err
	}
	if qs.q.Empty {
		return 0, nil
	}
	cmd, err := compiler.Count(&qs.q)
	if err != nil {
		return 0, wrap("count", qs.meta, err)
	}
	cur, err := qs.run(ctx, "count", cmd)
	if err != nil {
		return 0, err
	}
	defer closeCursor(ctx, cur)
	if !cur.Next(ctx) {
		// $count gives no document at all when nothing matches.
		return 0, wrap("count", qs.meta, cur.Err())
	}
	n, ok := cur.Current.Lookup(compiler.CountKey).AsInt64OK()
	if !ok {
		return 0, &qsError{op: "count", model: qs.meta.Name, msg: "the server's reply has no count: " + cur.Current.String()}
	}
	return n, nil
}

// Exists reports whether the QuerySet matches any document, fetching at most one _id.
func (qs *QuerySet[T]) Exists(ctx context.Context) (bool, error) {
	if qs.err != nil {
		return false, qs.err
	}
	if qs.q.Empty {
		return false, nil
	}
	cmd, err := compiler.Exists(&qs.q)
	if err != nil {
		return false, wrap("exists", qs.meta, err)
	}
	cur, err := qs.run(ctx, "exists", cmd)
	if err != nil {
		return false, err
	}
	defer closeCursor(ctx, cur)
	if cur.Next(ctx) {
		return true, nil
	}
	return false, wrap("exists", qs.meta, cur.Err())
}

// pkLookupValue is the value to look an instance up by in a "pk" lookup: the primary
// key field's Go value, or the stored sub-document of a composite key (which counts as
// set whatever its members hold, as Save treats it).
func (qs *QuerySet[T]) pkLookupValue(obj *T) (any, bool) {
	meta := qs.meta
	if meta.PKFields != nil {
		v, _ := meta.PKValue(obj)
		return v, v != nil
	}
	if _, set := meta.PKValue(obj); !set {
		return nil, false
	}
	v, err := meta.PK.Get(obj)
	return v, err == nil
}

// Contains reports whether obj, a saved instance, is among the documents the QuerySet
// matches: Django's contains(). An instance without a primary key is an error.
func (qs *QuerySet[T]) Contains(ctx context.Context, obj *T) (bool, error) {
	if qs.err != nil {
		return false, qs.err
	}
	if obj == nil {
		return false, &qsError{op: "contains", model: qs.meta.Name, msg: "nil instance"}
	}
	pk, set := qs.pkLookupValue(obj)
	if !set {
		return false, &qsError{op: "contains", model: qs.meta.Name, msg: "Contains cannot be used on unsaved instances (no primary key)"}
	}
	if qs.q.Empty {
		return false, nil
	}
	if qs.sliced {
		return false, qs.failSliced("Contains", "filter").err
	}
	return qs.Filter(expr.Q{"pk": pk}).Exists(ctx)
}

// InBulk returns the instances whose primary keys are among ids, keyed by primary key
// (the Go value of the key field: bson.ObjectID for model.Model): Django's in_bulk().
// Keys that match nothing are absent; no ids gives an empty map without a query.
// Models with a composite key are not supported (a bson.D cannot be a map key).
func (qs *QuerySet[T]) InBulk(ctx context.Context, ids ...any) (map[any]T, error) {
	if qs.err != nil {
		return nil, qs.err
	}
	if qs.meta.PK.Index == nil {
		return nil, notSupported("in bulk", qs.meta, "InBulk needs a single-field primary key")
	}
	if qs.sliced {
		return nil, &qsError{op: "in bulk", model: qs.meta.Name, msg: "cannot use Limit or Offset with InBulk"}
	}
	out := make(map[any]T, len(ids))
	if len(ids) == 0 || qs.q.Empty {
		return out, nil
	}
	c := qs.Filter(expr.Q{"pk__in": ids}).OrderBy()
	rows, err := c.all(ctx, "in bulk")
	if err != nil {
		return nil, err
	}
	for i := range rows {
		k, err := qs.meta.PK.Get(&rows[i])
		if err != nil {
			return nil, wrap("in bulk", qs.meta, err)
		}
		if t := reflect.TypeOf(k); t == nil || !t.Comparable() {
			return nil, notSupported("in bulk", qs.meta, "the primary key's Go type cannot be a map key")
		}
		out[k] = rows[i]
	}
	return out, nil
}

// Explain returns the server's query plan for the QuerySet's rows (the command MQL
// shows), at the "queryPlanner" verbosity.
func (qs *QuerySet[T]) Explain(ctx context.Context) (bson.Raw, error) {
	cmd, err := qs.compile("explain")
	if err != nil {
		return nil, err
	}
	raw, err := qs.db.Database().RunCommand(ctx, bson.D{
		{Key: "explain", Value: cmd.Doc},
		{Key: "verbosity", Value: "queryPlanner"},
	}).Raw()
	if err != nil {
		return nil, wrap("explain", qs.meta, err)
	}
	return raw, nil
}

// RawAggregate runs an aggregation pipeline (bson.A, []bson.D, mongo.Pipeline) on T's
// collection and decodes every output document into a T: Django's raw(). Keys T does
// not declare are kept in the instance's model.State.Extra; a document without _id is an
// error, since an instance without its key could not be saved back. It runs on the
// whole collection, so it must be called on a QuerySet without filters, order, slicing
// or field selection (Using and BatchSize apply).
func (qs *QuerySet[T]) RawAggregate(ctx context.Context, pipeline any) ([]T, error) {
	if qs.err != nil {
		return nil, qs.err
	}
	q := qs.q
	if q.Where != nil || q.Empty || q.Order != nil || q.ClearOrder || q.Reverse || qs.sliced ||
		q.Distinct || q.DistinctOn != nil || q.Only != nil || q.Defer != nil {
		return nil, &qsError{op: "raw aggregate", model: qs.meta.Name, msg: "RawAggregate runs the pipeline as given on the whole collection: call it on Objects[T](db) without filters, order, slicing or field selection"}
	}
	opts := options.Aggregate()
	if q.BatchSize > 0 {
		opts.SetBatchSize(q.BatchSize)
	}
	cur, err := qs.db.Collection(qs.meta).Aggregate(ctx, pipeline, opts)
	if err != nil {
		return nil, wrap("raw aggregate", qs.meta, err)
	}
	defer closeCursor(ctx, cur)
	out := make([]T, 0, max(cur.RemainingBatchLength(), 1))
	for i := 0; cur.Next(ctx); i++ {
		if _, err := cur.Current.LookupErr("_id"); err != nil {
			return nil, &qsError{op: "raw aggregate", model: qs.meta.Name, msg: "the pipeline's output document " + strconv.Itoa(i) + " has no _id: " + cur.Current.String()}
		}
		out = append(out, *new(T))
		if err := qs.meta.Decode(cur.Current, &out[len(out)-1]); err != nil {
			return nil, wrap("raw aggregate", qs.meta, err)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, wrap("raw aggregate", qs.meta, err)
	}
	return out, nil
}
