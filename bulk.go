package modjo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// InsertManyOptions change what InsertMany does. The zero value inserts every instance
// with one ordered insert, which the driver splits by the server's limits.
type InsertManyOptions struct {
	// BatchSize is the largest number of instances sent in one insert command; 0 or
	// less: no limit of modjo's own.
	BatchSize int
	// IgnoreConflicts makes the insert unordered and skips the instances the server
	// refuses as duplicate keys (a unique index): the others are stored, the skipped
	// ones are left as they were (not loaded, without a key InsertMany assigned).
	// Any other write error is still returned.
	IgnoreConflicts bool
}

// Option builders are only read by the driver, so one of each serves every call.
var (
	orderedInsert   = options.InsertMany().SetOrdered(true)
	unorderedInsert = options.InsertMany().SetOrdered(false)
)

// InsertMany inserts new instances of one model (pointers to the same registered model
// type), as Django's bulk_create: the insert path of QuerySet.BulkCreate. Each instance
// is prepared as a new one (defaults, auto_now_add, auto_now, milliseconds) and encoded
// once; keys are assigned as Save assigns them, AutoField values as one block taken from
// the counter in a single round trip. No hooks or signals run (Django's bulk_create sends
// none). Stored instances are marked loaded.
//
// Without IgnoreConflicts the insert is ordered and stops at the first write error: the
// instances stored before the failing one keep their keys, the others (and all of them on
// any other error) are left without the keys assigned here. The error wraps ErrIntegrity
// for a duplicate key.
func (db *DB) InsertMany(ctx context.Context, objs []any, opts InsertManyOptions) error {
	if len(objs) == 0 {
		return nil
	}
	info, err := db.resolve("bulk create", objs[0])
	if err != nil {
		return err
	}
	t := reflect.TypeOf(objs[0])
	for i, obj := range objs[1:] {
		if reflect.TypeOf(obj) != t {
			return &opError{op: "bulk create", model: info.meta.Name, msg: fmt.Sprintf("instance %d is a %T, not a %s", i+1, obj, t)}
		}
		if reflect.ValueOf(obj).IsNil() {
			return &opError{op: "bulk create", model: info.meta.Name, msg: fmt.Sprintf("instance %d is nil", i+1)}
		}
	}
	return db.bulkInsert(ctx, info, objs, opts)
}

// insertMany is InsertMany of one ordered batch for a model already resolved.
func (db *DB) insertMany(ctx context.Context, info *modelInfo, objs []any) error {
	return db.bulkInsert(ctx, info, objs, InsertManyOptions{})
}

func (db *DB) bulkInsert(ctx context.Context, info *modelInfo, objs []any, opts InsertManyOptions) error {
	if len(objs) == 0 {
		return nil
	}
	meta := info.meta
	now := time.Now()
	assigned := make([]bool, len(objs))
	auto := 0
	for i, obj := range objs {
		_, set := meta.PKValue(obj)
		if !set && info.pk == pkChosen {
			return &opError{op: "bulk create", model: meta.Name, msg: "the primary key " + meta.PK.Name + " must be set"}
		}
		assigned[i] = !set && info.pk != pkComposite
		if err := meta.PrepareSave(obj, true, now); err != nil {
			return &opError{op: "bulk create", model: meta.Name, err: err}
		}
		if assigned[i] && info.pk == pkUUID {
			if err := info.ensurePK(obj); err != nil {
				return &opError{op: "bulk create", model: meta.Name, err: err}
			}
		}
		if assigned[i] && info.pk == pkAuto {
			auto++
		}
	}
	clearFrom := func(from int) {
		for i := from; i < len(objs); i++ {
			if assigned[i] {
				info.clearPK(objs[i])
			}
		}
	}
	if auto > 0 {
		last, err := db.nextSeqN(ctx, info, int64(auto))
		if err != nil {
			clearFrom(0)
			return err
		}
		next := last - int64(auto) + 1
		for i, obj := range objs {
			if assigned[i] {
				if err := meta.SetPK(obj, next); err != nil {
					clearFrom(0)
					return &opError{op: "bulk create", model: meta.Name, err: err}
				}
				next++
			}
		}
	}
	docs := make([]bson.Raw, len(objs))
	dropped := make([]bool, len(objs))
	for i, obj := range objs {
		var err error
		if docs[i], dropped[i], err = info.insertDoc(obj, assigned[i]); err != nil {
			clearFrom(0)
			return &opError{op: "bulk create", model: meta.Name, err: err}
		}
	}

	size := opts.BatchSize
	if size <= 0 || size > len(docs) {
		size = len(docs)
	}
	insertOpts := orderedInsert
	if opts.IgnoreConflicts {
		insertOpts = unorderedInsert
	}
	for from := 0; from < len(docs); from += size {
		to := min(from+size, len(docs))
		res, err := info.coll.InsertMany(ctx, docs[from:to], insertOpts)
		// failed[i] marks the instances of this batch the server did not store.
		failed := make([]bool, to-from)
		var bwe mongo.BulkWriteException
		switch {
		case err == nil:
		case !errors.As(err, &bwe):
			// Nothing is known to be stored (a network error, a refused command).
			for i := range failed {
				failed[i] = true
			}
		case !opts.IgnoreConflicts:
			// Ordered: the first write error stopped the batch.
			stop := len(failed)
			if len(bwe.WriteErrors) > 0 {
				stop = bwe.WriteErrors[0].Index
			}
			for i := max(stop, 0); i < len(failed); i++ {
				failed[i] = true
			}
		default:
			for _, we := range bwe.WriteErrors {
				if we.Index >= 0 && we.Index < len(failed) {
					failed[we.Index] = true
				}
			}
		}
		var ids []any
		if res != nil {
			ids = res.InsertedIDs
		}
		// The driver reports the _ids of the stored documents only, in order (older
		// versions reported every document's): k walks them.
		k := 0
		for i := range failed {
			obj := objs[from+i]
			if failed[i] {
				if assigned[from+i] {
					info.clearPK(obj)
				}
				continue
			}
			at := k
			if len(ids) == len(failed) {
				at = i
			}
			k++
			if dropped[from+i] {
				if at >= len(ids) {
					return &opError{op: "bulk create", model: meta.Name, msg: "the driver did not report the assigned _id"}
				}
				id, ok := ids[at].(bson.ObjectID)
				if !ok {
					return &opError{op: "bulk create", model: meta.Name, msg: "the driver assigned a non-ObjectID _id"}
				}
				info.setObjectID(obj, id)
			}
			model.EnsureState(obj).Loaded = true
		}
		if err != nil && !(opts.IgnoreConflicts && onlyDuplicates(err)) {
			clearFrom(to)
			return writeError("bulk create", info, nil, err)
		}
	}
	return nil
}

// onlyDuplicates reports whether err, an unordered insert's error, is nothing but
// duplicate-key write errors: the conflicts IgnoreConflicts skips.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we.WriteError) {
			return false
		}
	}
	return true
}

// PrepareInsert prepares obj, a new instance (a pointer to a registered model), for an
// insert its caller sends itself, such as the upsert of QuerySet.GetOrCreate: defaults,
// auto_now_add, auto_now and milliseconds as Save applies them to a new instance, and a
// key when it is unset (a new ObjectID, a random UUID, the next AutoField value). It
// returns the document to store, _id first. Hooks and signals do not run, and the
// instance is not marked loaded: the caller does that once its write succeeds.
func (db *DB) PrepareInsert(ctx context.Context, obj any) (bson.Raw, error) {
	info, err := db.resolve("create", obj)
	if err != nil {
		return nil, err
	}
	meta := info.meta
	_, set := meta.PKValue(obj)
	if !set && info.pk == pkChosen {
		return nil, &opError{op: "create", model: meta.Name, msg: fmt.Sprintf("the primary key %s must be set before saving (only ObjectID, UUID and integer AutoField keys are assigned)", meta.PK.Name)}
	}
	if err := meta.PrepareSave(obj, true, time.Now()); err != nil {
		return nil, &opError{op: "create", model: meta.Name, err: err}
	}
	if !set && info.pk != pkComposite {
		if info.pk == pkAuto {
			seq, err := db.nextSeq(ctx, info)
			if err != nil {
				return nil, err
			}
			if err := meta.SetPK(obj, seq); err != nil {
				return nil, &opError{op: "create", model: meta.Name, err: err}
			}
		} else if err := info.ensurePK(obj); err != nil {
			return nil, &opError{op: "create", model: meta.Name, err: err}
		}
	}
	raw, err := meta.Encode(obj)
	if err != nil {
		return nil, &opError{op: "create", model: meta.Name, err: err}
	}
	return raw, nil
}

// nextSeqN takes n consecutive AutoField values from the counter and returns the last.
func (db *DB) nextSeqN(ctx context.Context, info *modelInfo, n int64) (int64, error) {
	filter := bson.D{{Key: "_id", Value: info.meta.Collection}}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: n}}}}
	var err error
	// Two first-ever upserts of the same counter can race; the loser gets a duplicate
	// key error and simply increments the counter the winner created.
	for range 3 {
		var raw bson.Raw
		raw, err = db.counters.FindOneAndUpdate(ctx, filter, update, counterUpsert).Raw()
		if err == nil {
			seq, ok := raw.Lookup("seq").AsInt64OK()
			if !ok {
				return 0, &opError{op: "save", model: info.meta.Name, msg: "the AutoField counter " + info.meta.Collection + " in " + CountersCollection + " holds a non-integer seq"}
			}
			return seq, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	return 0, &opError{op: "save", model: info.meta.Name, msg: "allocate AutoField value", err: err}
}
