package queryset

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/compiler"
	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Create inserts a new instance, as Django's objects.create(): DB.Create on the
// QuerySet's database. It never updates: a key already stored fails with ErrIntegrity.
func (qs *QuerySet[T]) Create(ctx context.Context, obj *T) error {
	if qs.err != nil {
		return qs.err
	}
	if obj == nil {
		return &qsError{op: "create", model: qs.meta.Name, msg: "nil instance"}
	}
	return qs.db.Create(ctx, obj)
}

// Update sets fields of every document the QuerySet matches and returns how many
// matched: Django's update(). Values are constants (stored with $set, nil with the
// field's null rule) or expressions over the document (expr.F("views").Add(1)), which
// make it a pipeline update: either way one updateMany, atomic per document on the
// server. Hooks, signals and auto_now do not run (as in Django). A sliced QuerySet
// cannot be updated.
func (qs *QuerySet[T]) Update(ctx context.Context, values expr.Set) (int64, error) {
	if qs.err != nil {
		return 0, qs.err
	}
	if qs.sliced {
		return 0, qs.failSliced("update", "update").err
	}
	if len(qs.q.DistinctOn) > 0 {
		return 0, notSupported("update", qs.meta, "Update after Distinct(fields...)")
	}
	if len(values) == 0 || qs.q.Empty {
		return 0, nil
	}
	filter, err := qs.filterDoc("update", qs.q.Where)
	if err != nil {
		return 0, err
	}
	upd, err := compiler.UpdateDoc(qs.meta, values)
	if err != nil {
		return 0, wrap("update", qs.meta, err)
	}
	res, err := qs.db.Collection(qs.meta).UpdateMany(ctx, filter, upd)
	if err != nil {
		return 0, writeErr("update", qs.meta, err)
	}
	return res.MatchedCount, nil
}

// filterDoc compiles a condition to a filter document ({} for none).
func (qs *QuerySet[T]) filterDoc(op string, where expr.Condition) (bson.D, error) {
	filter, err := compiler.FilterDoc(qs.meta, where)
	if err != nil {
		return nil, wrap(op, qs.meta, err)
	}
	if filter == nil {
		filter = bson.D{}
	}
	return filter, nil
}

// deleteChunk bounds the number of keys in one delete by keys.
const deleteChunk = 1000

// Delete removes every document the QuerySet matches and returns the total and the
// count per model name (Django's delete(); relations' cascades come later, so the map
// holds at most T's model, and no entry when nothing was deleted).
//
// With PreDelete or PostDelete receivers connected for the model, the instances are
// loaded first: PreDelete runs for each (an error stops everything before any
// deletion), then the documents are deleted by primary key, then PostDelete runs for
// each. Otherwise it is one deleteMany. Model hooks (BeforeDelete…) do not run, as
// Django's bulk delete does not call Model.delete(). A sliced QuerySet cannot be deleted.
func (qs *QuerySet[T]) Delete(ctx context.Context) (int64, map[string]int64, error) {
	if qs.err != nil {
		return 0, nil, qs.err
	}
	if qs.sliced {
		return 0, nil, &qsError{op: "delete", model: qs.meta.Name, msg: "cannot use Limit or Offset with Delete"}
	}
	if len(qs.q.DistinctOn) > 0 {
		return 0, nil, notSupported("delete", qs.meta, "Delete after Distinct(fields...)")
	}
	counts := map[string]int64{}
	if qs.q.Empty {
		return 0, counts, nil
	}
	reg := qs.db.Registry()
	var n int64
	var err error
	if reg.HasReceivers(model.PreDelete, qs.meta) || reg.HasReceivers(model.PostDelete, qs.meta) {
		n, err = qs.deleteWithSignals(ctx)
	} else {
		var filter bson.D
		if filter, err = qs.filterDoc("delete", qs.q.Where); err == nil {
			var res *mongo.DeleteResult
			if res, err = qs.db.Collection(qs.meta).DeleteMany(ctx, filter); err != nil {
				err = writeErr("delete", qs.meta, err)
			} else {
				n = res.DeletedCount
			}
		}
	}
	if n > 0 {
		counts[qs.meta.Name] = n
	}
	return n, counts, err
}

func (qs *QuerySet[T]) deleteWithSignals(ctx context.Context) (int64, error) {
	reg := qs.db.Registry()
	rows, err := qs.OrderBy().all(ctx, "delete")
	if err != nil {
		return 0, err
	}
	send := func(s model.Signal, obj *T) error {
		if err := reg.Send(ctx, &model.Event{Signal: s, Meta: qs.meta, Instance: obj}); err != nil {
			return &qsError{op: "delete", model: qs.meta.Name, msg: s.String() + " receiver", err: err}
		}
		return nil
	}
	for i := range rows {
		if err := send(model.PreDelete, &rows[i]); err != nil {
			return 0, err
		}
	}
	var n int64
	for from := 0; from < len(rows); from += deleteChunk {
		chunk := rows[from:min(from+deleteChunk, len(rows))]
		ids := make([]any, len(chunk))
		for i := range chunk {
			ids[i], _ = qs.pkLookupValue(&chunk[i])
		}
		filter, err := qs.filterDoc("delete", expr.Q{"pk__in": ids})
		if err != nil {
			return n, err
		}
		res, err := qs.db.Collection(qs.meta).DeleteMany(ctx, filter)
		if err != nil {
			return n, writeErr("delete", qs.meta, err)
		}
		n += res.DeletedCount
	}
	for i := range rows {
		model.EnsureState(&rows[i]).Loaded = false
		if err := send(model.PostDelete, &rows[i]); err != nil {
			return n, err
		}
	}
	return n, nil
}

// BulkOption changes what BulkCreate and BulkUpdate do.
type BulkOption func(*bulkOptions)

type bulkOptions struct {
	batchSize       int
	ignoreConflicts bool
	err             error
}

// BatchSize makes BulkCreate and BulkUpdate send at most n instances per command
// (Django's batch_size). Without it, one command carries them all (the driver still
// splits it at the server's limits).
func BatchSize(n int) BulkOption {
	return func(o *bulkOptions) {
		if n <= 0 && o.err == nil {
			o.err = fmt.Errorf("BatchSize(%d): the batch size must be positive", n)
		}
		o.batchSize = n
	}
}

// IgnoreConflicts makes BulkCreate insert unordered and skip the instances refused as
// duplicate keys (Django's ignore_conflicts): the others are stored and get their keys,
// the skipped ones stay unsaved.
func IgnoreConflicts() BulkOption {
	return func(o *bulkOptions) { o.ignoreConflicts = true }
}

func bulkOpts(op string, meta *model.Meta, opts []BulkOption) (bulkOptions, error) {
	var o bulkOptions
	for _, fn := range opts {
		if fn != nil {
			fn(&o)
		}
	}
	if o.err != nil {
		return o, &qsError{op: op, model: modelName(meta), msg: o.err.Error()}
	}
	return o, nil
}

// BulkCreate inserts new instances with as few inserts as possible, as Django's
// bulk_create(): defaults and auto_now(_add) apply and keys are assigned (ObjectIDs,
// UUIDs, one block of AutoField values), but no hooks or signals run. The QuerySet's
// filters do not matter. Without IgnoreConflicts the insert is ordered and stops at the
// first error (a duplicate key wraps ErrIntegrity); the instances stored before it keep
// their keys. See modjo.DB.InsertMany.
func (qs *QuerySet[T]) BulkCreate(ctx context.Context, objs []*T, opts ...BulkOption) error {
	if qs.err != nil {
		return qs.err
	}
	o, err := bulkOpts("bulk create", qs.meta, opts)
	if err != nil {
		return err
	}
	anys := make([]any, len(objs))
	for i, obj := range objs {
		if obj == nil {
			return &qsError{op: "bulk create", model: qs.meta.Name, msg: fmt.Sprintf("instance %d is nil", i)}
		}
		anys[i] = obj
	}
	return qs.db.InsertMany(ctx, anys, modjo.InsertManyOptions{BatchSize: o.batchSize, IgnoreConflicts: o.ignoreConflicts})
}

// BulkUpdate writes the named fields (lookup names) of saved instances, by primary key,
// with one bulkWrite of updateOne $sets per batch, and returns how many documents
// matched: Django's bulk_update(). No hooks, signals or auto_now run. Every instance
// must have a primary key; the key fields cannot be named.
func (qs *QuerySet[T]) BulkUpdate(ctx context.Context, objs []*T, fields []string, opts ...BulkOption) (int64, error) {
	const op = "bulk update"
	if qs.err != nil {
		return 0, qs.err
	}
	o, err := bulkOpts(op, qs.meta, opts)
	if err != nil {
		return 0, err
	}
	if o.ignoreConflicts {
		return 0, &qsError{op: op, model: qs.meta.Name, msg: "IgnoreConflicts applies to BulkCreate only"}
	}
	if len(fields) == 0 {
		return 0, &qsError{op: op, model: qs.meta.Name, msg: "field names must be given to BulkUpdate"}
	}
	names := make([]string, 0, len(fields))
	for _, name := range fields {
		f, ok := qs.meta.Field(name)
		if !ok {
			return 0, wrap(op, qs.meta, &model.FieldError{Model: qs.meta.Name, Name: name, Kind: "field", Choices: qs.meta.FieldNames()})
		}
		if f.PrimaryKey || f == qs.meta.PK {
			return 0, notSupported(op, qs.meta, "BulkUpdate cannot update primary key fields")
		}
		if !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	if len(objs) == 0 {
		return 0, nil
	}
	size := o.batchSize
	if size <= 0 || size > len(objs) {
		size = len(objs)
	}
	coll := qs.db.Collection(qs.meta)
	var matched int64
	models := make([]mongo.WriteModel, 0, size)
	for i, obj := range objs {
		if obj == nil {
			return matched, &qsError{op: op, model: qs.meta.Name, msg: fmt.Sprintf("instance %d is nil", i)}
		}
		pk, ok := qs.pkLookupValue(obj)
		if !ok {
			return matched, &qsError{op: op, model: qs.meta.Name, msg: fmt.Sprintf("instance %d has no primary key: every BulkUpdate instance must be saved", i)}
		}
		filter, err := qs.filterDoc(op, expr.Q{"pk": pk})
		if err != nil {
			return matched, err
		}
		upd, err := qs.meta.EncodeUpdate(obj, names)
		if err != nil {
			return matched, wrap(op, qs.meta, err)
		}
		models = append(models, mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(upd))
		if len(models) == size || i == len(objs)-1 {
			res, err := coll.BulkWrite(ctx, models)
			if res != nil {
				matched += res.MatchedCount
			}
			if err != nil {
				return matched, writeErr(op, qs.meta, err)
			}
			models = models[:0]
		}
	}
	return matched, nil
}

// GetOrCreate returns the one instance the QuerySet matches, or creates it: Django's
// get_or_create(). A new instance starts from the filter's exact lookups (name="x",
// shop__city="Paris", pk=…) and defaults (lookup names to values), then gets Save's
// treatment for new instances (defaults, auto_now_add, a key). created reports an insert.
//
// When the filter is nothing but exact lookups, the insert is one upserting
// findAndModify ($setOnInsert) on that filter: concurrent callers never create two
// documents — on real MongoDB, provided a unique index covers the filter's fields
// (without one, two concurrent upserts can both insert). Otherwise it is an insert
// retried as a get on a duplicate key, which a unique index makes safe too. Several
// matches give ErrMultipleObjectsReturned. BeforeSave/AfterSave hooks and
// PreSave/PostSave signals run around a creation.
func (qs *QuerySet[T]) GetOrCreate(ctx context.Context, defaults expr.Set) (T, bool, error) {
	const op = "get or create"
	var zero T
	if err := qs.checkCreate(op, defaults, false); err != nil {
		return zero, false, err
	}
	seed, atomic := qs.seed()
	var filter bson.D
	if atomic {
		var err error
		if filter, err = qs.filterDoc(op, qs.q.Where); err != nil {
			return zero, false, err
		}
	}
	for attempt := 0; ; attempt++ {
		found, err := qs.get(ctx, op, nil)
		if err == nil || !errors.Is(err, model.ErrDoesNotExist) {
			return found, false, err
		}
		obj, created, lost, err := qs.createNew(ctx, op, seed, defaults, atomic, filter, nil, false)
		// A lost race means another caller created it first: get it, once. If it is
		// still not there, the conflict was another one and is returned.
		if lost && attempt == 0 {
			continue
		}
		if err != nil {
			return zero, false, err
		}
		return *obj, created, nil
	}
}

// UpdateOrCreate updates the one instance the QuerySet matches with defaults (lookup
// names to constant values), or creates it from the filter's exact lookups and
// defaults: Django's update_or_create(). created reports an insert. auto_now fields are
// refreshed in both cases.
//
// When the filter is nothing but exact lookups on the primary key or on the fields of a
// unique index (so that it cannot match several documents), and the model has no save
// hooks, no PreSave/PostSave receivers and no AutoField key, it is one atomic
// findAndModify ($set of the defaults, $setOnInsert of the rest, upsert). Otherwise the
// instance is fetched (several matches give ErrMultipleObjectsReturned) and saved with
// modjo.UpdateFields, hooks and signals included, or created as GetOrCreate creates.
// Expressions (expr.F) are not accepted in defaults: use Update for them.
func (qs *QuerySet[T]) UpdateOrCreate(ctx context.Context, defaults expr.Set) (T, bool, error) {
	const op = "update or create"
	var zero T
	if err := qs.checkCreate(op, defaults, true); err != nil {
		return zero, false, err
	}
	seed, atomic := qs.seed()
	var filter bson.D
	var setOps bson.D
	if atomic {
		var err error
		if filter, err = qs.filterDoc(op, qs.q.Where); err != nil {
			return zero, false, err
		}
	}
	if atomic && len(defaults) > 0 {
		u, err := compiler.UpdateDoc(qs.meta, defaults)
		if err != nil {
			return zero, false, wrap(op, qs.meta, err)
		}
		var ok bool
		if setOps, ok = u.(bson.D); !ok {
			return zero, false, &qsError{op: op, model: qs.meta.Name, msg: fmt.Sprintf("the compiler gave a %T update for constant defaults", u)}
		}
	}
	hooked := qs.saveHooked()
	// findAndModify updates one of several matches silently, where Django's get()
	// reports them: the one-round-trip form needs a filter no two documents can match.
	if atomic && !hooked && !qs.meta.PK.Auto && uniqueFilter(qs.meta, seed) {
		for attempt := 0; ; attempt++ {
			obj, err := qs.newInstance(op, seed, defaults)
			if err != nil {
				return zero, false, err
			}
			created, err := qs.upsert(ctx, op, obj, filter, seed, setOps, true)
			if errors.Is(err, errNothingToUpsert) {
				break // the slow path below can do it
			}
			// A concurrent upsert inserted first (real MongoDB reports the race as a
			// duplicate key): the next one matches it and updates.
			if attempt == 0 && mongo.IsDuplicateKeyError(err) {
				continue
			}
			if err != nil {
				return zero, false, err
			}
			return *obj, created, nil
		}
	}
	keys := slices.Sorted(maps.Keys(defaults))
	for attempt := 0; ; attempt++ {
		found, err := qs.get(ctx, op, nil)
		if err == nil {
			for _, k := range keys {
				f, _ := qs.meta.Field(k)
				if err := f.Set(&found, constant(defaults[k])); err != nil {
					return zero, false, wrap(op, qs.meta, err)
				}
			}
			names := slices.Clone(keys)
			for _, f := range qs.meta.Fields {
				if f.AutoNow && !slices.Contains(names, f.Name) {
					names = append(names, f.Name)
				}
			}
			if len(names) > 0 {
				err = qs.db.Save(ctx, &found, modjo.UpdateFields(names...))
				if attempt == 0 && errors.Is(err, model.ErrDoesNotExist) {
					continue // deleted meanwhile: create it
				}
			}
			if err != nil {
				return zero, false, err
			}
			return found, false, nil
		}
		if !errors.Is(err, model.ErrDoesNotExist) {
			return zero, false, err
		}
		obj, created, lost, err := qs.createNew(ctx, op, seed, defaults, atomic, filter, setOps, true)
		if lost && attempt == 0 {
			continue
		}
		if err != nil {
			return zero, false, err
		}
		return *obj, created, nil
	}
}

// createNew creates the instance GetOrCreate and UpdateOrCreate make when nothing
// matches, from the filter's exact lookups (seed) and defaults: one upserting
// findAndModify when the filter allows it (atomic), otherwise an insert. lost reports a
// duplicate key — another caller created a matching document first — which the callers
// answer with one more get.
func (qs *QuerySet[T]) createNew(ctx context.Context, op string, seed bson.D, defaults expr.Set, atomic bool, filter, setOps bson.D, update bool) (obj *T, created, lost bool, err error) {
	if obj, err = qs.newInstance(op, seed, defaults); err != nil {
		return nil, false, false, err
	}
	if atomic {
		created, err = qs.upsert(ctx, op, obj, filter, seed, setOps, update)
	}
	if !atomic || errors.Is(err, errNothingToUpsert) {
		err = qs.db.Create(ctx, obj)
		created = err == nil
	}
	if err != nil {
		return nil, false, mongo.IsDuplicateKeyError(err), err
	}
	return obj, created, false, nil
}

// constant unwraps expr.Value(x) to x.
func constant(v any) any {
	switch x := v.(type) {
	case expr.Expr:
		if c, ok := x.Node.(expr.Constant); ok {
			return c.Value
		}
	case expr.Constant:
		return x.Value
	}
	return v
}

// checkCreate checks what GetOrCreate and UpdateOrCreate are given: defaults must name
// fields and hold values (expressions cannot seed a new document), and the QuerySet
// must not be sliced (its filter decides what to get).
func (qs *QuerySet[T]) checkCreate(op string, defaults expr.Set, update bool) error {
	if qs.err != nil {
		return qs.err
	}
	if qs.sliced {
		return qs.failSliced(op, "filter").err
	}
	for _, k := range slices.Sorted(maps.Keys(defaults)) {
		f, ok := qs.meta.Field(k)
		if !ok {
			return wrap(op, qs.meta, &model.FieldError{Model: qs.meta.Name, Name: k, Kind: "field", Choices: qs.meta.FieldNames()})
		}
		if f.Index == nil || (update && (f.PrimaryKey || f == qs.meta.PK)) {
			return notSupported(op, qs.meta, fmt.Sprintf("defaults cannot set the primary key %s here", k))
		}
		switch x := defaults[k].(type) {
		case expr.Expr:
			if _, ok := x.Node.(expr.Constant); !ok {
				return notSupported(op, qs.meta, fmt.Sprintf("defaults[%q] is an expression; a new document needs values (use Update for expressions)", k))
			}
		case expr.Node:
			if _, ok := x.(expr.Constant); !ok {
				return notSupported(op, qs.meta, fmt.Sprintf("defaults[%q] is an expression; a new document needs values (use Update for expressions)", k))
			}
		}
	}
	return nil
}

// seed returns the filter's exact lookups as stored paths and values, for a new
// instance, and whether they are the whole filter (so an upsert on the filter creates a
// document that matches it). As Django creates from the plain keyword arguments only,
// when other lookups are present the exact ones of an AND of Q maps still seed it.
func (qs *QuerySet[T]) seed() (bson.D, bool) {
	if qs.q.Empty {
		return nil, false
	}
	if eq, ok := compiler.Equalities(qs.meta, qs.q.Where); ok {
		return eq, true
	}
	var qsMaps []expr.Q
	switch w := qs.q.Where.(type) {
	case expr.Q:
		qsMaps = append(qsMaps, w)
	case expr.Junction:
		if !w.Or {
			for _, c := range w.Children {
				if q, ok := c.(expr.Q); ok {
					qsMaps = append(qsMaps, q)
				}
			}
		}
	}
	var out bson.D
	for _, q := range qsMaps {
		for _, k := range q.Keys() {
			if eq, ok := compiler.Equalities(qs.meta, expr.Q{k: q[k]}); ok {
				out = append(out, eq...)
			}
		}
	}
	return out, false
}

// newInstance builds a new T from the seed (stored paths and values) and defaults.
func (qs *QuerySet[T]) newInstance(op string, seed bson.D, defaults expr.Set) (*T, error) {
	obj := new(T)
	if len(seed) > 0 {
		var doc bson.D
		for _, e := range seed {
			doc = setPath(doc, strings.Split(e.Key, "."), e.Value)
		}
		raw, err := bson.Marshal(doc)
		if err == nil {
			err = qs.meta.Decode(raw, obj)
		}
		if err != nil {
			return nil, &qsError{op: op, model: qs.meta.Name, msg: "cannot build a new instance from the filter's exact lookups", err: err}
		}
		model.ResetState(obj) // new, not loaded
	}
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, _ := qs.meta.Field(k)
		if err := f.Set(obj, constant(defaults[k])); err != nil {
			return nil, wrap(op, qs.meta, err)
		}
	}
	return obj, nil
}

// setPath sets a dotted path in a nested document.
func setPath(doc bson.D, parts []string, v any) bson.D {
	for i := range doc {
		if doc[i].Key == parts[0] {
			if len(parts) == 1 {
				doc[i].Value = v
			} else {
				sub, _ := doc[i].Value.(bson.D)
				doc[i].Value = setPath(sub, parts[1:], v)
			}
			return doc
		}
	}
	if len(parts) == 1 {
		return append(doc, bson.E{Key: parts[0], Value: v})
	}
	return append(doc, bson.E{Key: parts[0], Value: setPath(nil, parts[1:], v)})
}

// saveHooked reports whether saving a T runs code of the program: Before/AfterSave
// hooks or PreSave/PostSave receivers.
func (qs *QuerySet[T]) saveHooked() bool {
	var p any = (*T)(nil)
	_, before := p.(model.BeforeSaver)
	_, after := p.(model.AfterSaver)
	reg := qs.db.Registry()
	return before || after || reg.HasReceivers(model.PreSave, qs.meta) || reg.HasReceivers(model.PostSave, qs.meta)
}

// errNothingToUpsert: the new document holds nothing an upsert could add to the
// filter's equalities (an update document cannot be empty).
var errNothingToUpsert = errors.New("nothing to upsert")

// upsert creates obj, a new instance, with one findAndModify on filter unless a
// document matches already: {$setOnInsert: the new document} plus setOps (the $set and
// $unset of UpdateOrCreate's defaults, which apply in both cases, and then also the
// auto_now fields when touch is set). obj is then the stored document. It runs the save
// hooks and signals when the model has any; PostSave and AfterSave run after an insert,
// or after an update when setOps is not empty.
func (qs *QuerySet[T]) upsert(ctx context.Context, op string, obj *T, filter, seed, setOps bson.D, touch bool) (bool, error) {
	meta := qs.meta
	hooked := qs.saveHooked()
	reg := qs.db.Registry()
	if hooked {
		if h, ok := any(obj).(model.BeforeSaver); ok {
			if err := h.BeforeSave(ctx); err != nil {
				return false, &qsError{op: op, model: meta.Name, msg: "BeforeSave", err: err}
			}
		}
		if err := reg.Send(ctx, &model.Event{Signal: model.PreSave, Meta: meta, Instance: obj}); err != nil {
			return false, &qsError{op: op, model: meta.Name, msg: "pre-save receiver", err: err}
		}
	}
	doc, err := qs.db.PrepareInsert(ctx, obj)
	if err != nil {
		return false, err
	}
	var update bson.D
	var exclude []string
	var set bson.D
	for _, e := range setOps {
		d, _ := e.Value.(bson.D)
		for _, x := range d {
			exclude = append(exclude, x.Key)
		}
		if e.Key == "$set" {
			set = slices.Clone(d)
			continue
		}
		update = append(update, e)
	}
	if touch {
		for _, f := range meta.Fields {
			if !f.AutoNow || slices.Contains(exclude, f.Path) {
				continue
			}
			if v, err := doc.LookupErr(f.Path); err == nil {
				set = append(set, bson.E{Key: f.Path, Value: v})
				exclude = append(exclude, f.Path)
			}
		}
	}
	if len(set) > 0 {
		update = append(bson.D{{Key: "$set", Value: set}}, update...)
	}
	for _, e := range seed {
		// The upsert takes _id from the filter; $setOnInsert must not try to change it.
		if e.Key == "_id" || strings.HasPrefix(e.Key, "_id.") {
			exclude = append(exclude, "_id")
			break
		}
	}
	soi, err := setOnInsert(doc, "", exclude)
	if err != nil {
		return false, wrap(op, meta, err)
	}
	if len(soi) > 0 {
		update = append(update, bson.E{Key: "$setOnInsert", Value: soi})
	}
	if len(update) == 0 {
		return false, errNothingToUpsert
	}
	cmd := bson.D{
		{Key: "findAndModify", Value: meta.Collection},
		{Key: "query", Value: filter},
		{Key: "update", Value: update},
		{Key: "upsert", Value: true},
		{Key: "new", Value: true},
	}
	raw, err := qs.db.Database().RunCommand(ctx, cmd).Raw()
	if err != nil {
		return false, writeErr(op, meta, err)
	}
	val, ok := raw.Lookup("value").DocumentOK()
	if !ok {
		return false, &qsError{op: op, model: meta.Name, msg: "findAndModify returned no document: " + raw.String()}
	}
	if err := meta.Decode(val, obj); err != nil {
		return false, wrap(op, meta, err)
	}
	_, notUpserted := raw.LookupErr("lastErrorObject", "upserted")
	created := notUpserted == nil
	if hooked && (created || len(setOps) > 0) {
		var fields []string
		if !created {
			for _, e := range set {
				fields = append(fields, e.Key)
			}
		}
		if err := reg.Send(ctx, &model.Event{Signal: model.PostSave, Meta: meta, Instance: obj, Created: created, UpdateFields: fields}); err != nil {
			return created, &qsError{op: op, model: meta.Name, msg: "post-save receiver", err: err}
		}
		if h, ok := any(obj).(model.AfterSaver); ok {
			if err := h.AfterSave(ctx); err != nil {
				return created, &qsError{op: op, model: meta.Name, msg: "AfterSave", err: err}
			}
		}
	}
	return created, nil
}

// uniqueFilter reports whether equalities on these stored paths can match one document
// at most: they cover the primary key or the keys of a unique index of the model (one
// whose partial filter, if any, only leaves out documents where a key is null or
// missing, which an equality with a value never matches).
func uniqueFilter(meta *model.Meta, seed bson.D) bool {
	has := func(path string) bool {
		return slices.ContainsFunc(seed, func(e bson.E) bool { return e.Key == path })
	}
	if has("_id") {
		return true
	}
	if len(meta.PKFields) > 0 && !slices.ContainsFunc(meta.PKFields, func(f *model.Field) bool { return !has(f.Path) }) {
		return true
	}
	for _, spec := range meta.IndexSpecs() {
		if !spec.Unique || len(spec.Keys) == 0 {
			continue
		}
		covered := true
		for _, k := range spec.Keys {
			covered = covered && has(k.Key)
		}
		for _, e := range spec.PartialFilter {
			d, ok := e.Value.(bson.D)
			covered = covered && has(e.Key) && ok && len(d) == 1 && d[0].Key == "$type"
		}
		if covered {
			return true
		}
	}
	return false
}

// setOnInsert lists the elements of a new document for $setOnInsert, leaving out the
// excluded paths (set by $set/$unset, or _id): an excluded path below a key splits that
// sub-document into dotted paths, since one update cannot set a path and its parent.
func setOnInsert(doc bson.Raw, prefix string, exclude []string) (bson.D, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, err
	}
	out := make(bson.D, 0, len(elems))
	for _, el := range elems {
		path := prefix + el.Key()
		hit, below := false, false
		for _, x := range exclude {
			if x == path || strings.HasPrefix(path, x+".") {
				hit = true
				break
			}
			if strings.HasPrefix(x, path+".") {
				below = true
			}
		}
		if hit {
			continue
		}
		v := el.Value()
		if below {
			if sub, ok := v.DocumentOK(); ok {
				inner, err := setOnInsert(sub, path+".", exclude)
				if err != nil {
					return nil, err
				}
				out = append(out, inner...)
			}
			continue
		}
		out = append(out, bson.E{Key: path, Value: v})
	}
	return out, nil
}
