package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

var ctx = context.Background()

func commandError(t *testing.T, err error) mongo.CommandError {
	t.Helper()
	var ce mongo.CommandError
	require.True(t, errors.As(err, &ce), "expected a command error, got %v", err)
	return ce
}

func TestHandshakeReportsReplicaSetPrimary(t *testing.T) {
	testenv.Require(t, testenv.ReplicaSet)
	db := testenv.Database(t)
	var hello bson.M
	require.NoError(t, db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello))
	assert.Equal(t, true, hello["isWritablePrimary"])
	assert.NotEmpty(t, hello["setName"])
	assert.Equal(t, hello["me"], hello["primary"])
	assert.EqualValues(t, 30, hello["logicalSessionTimeoutMinutes"])
	assert.GreaterOrEqual(t, hello["maxWireVersion"], int32(21))
}

func TestUnknownCommand(t *testing.T) {
	db := testenv.Database(t)
	err := db.RunCommand(ctx, bson.D{{Key: "definitelyNotACommand", Value: 1}}).Err()
	ce := commandError(t, err)
	assert.Equal(t, int32(59), ce.Code)
	assert.Contains(t, ce.Message, "definitelyNotACommand")
}

func TestUnknownFieldIsRejected(t *testing.T) {
	db := testenv.Database(t)
	err := db.RunCommand(ctx, bson.D{{Key: "find", Value: "c"}, {Key: "bogusOption", Value: 1}}).Err()
	assert.Equal(t, int32(40415), commandError(t, err).Code)
}

func TestServerInfoCommands(t *testing.T) {
	db := testenv.Database(t)
	admin := db.Client().Database("admin")
	for _, cmd := range []string{"ping", "buildInfo", "serverStatus", "connectionStatus", "whatsmyuri", "hostInfo"} {
		require.NoError(t, admin.RunCommand(ctx, bson.D{{Key: cmd, Value: 1}}).Err(), cmd)
	}
	var p bson.M
	require.NoError(t, admin.RunCommand(ctx, bson.D{{Key: "getParameter", Value: 1}, {Key: "featureCompatibilityVersion", Value: 1}}).Decode(&p))
	assert.NotNil(t, p["featureCompatibilityVersion"])
}

func TestCursorBatchesAndGetMore(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	docs := make([]any, 250)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}, {Key: "pad", Value: "x"}}
	}
	_, err := coll.InsertMany(ctx, docs)
	require.NoError(t, err)

	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(7).SetSort(bson.D{{Key: "_id", Value: 1}}))
	require.NoError(t, err)
	n := 0
	for cur.Next(ctx) {
		var d struct {
			ID int `bson:"_id"`
		}
		require.NoError(t, cur.Decode(&d))
		require.Equal(t, n, d.ID)
		n++
	}
	require.NoError(t, cur.Err())
	assert.Equal(t, 250, n)

	// Limit across batches, and an explicit close (killCursors).
	cur, err = coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(10).SetLimit(25))
	require.NoError(t, err)
	var all []bson.M
	require.NoError(t, cur.All(ctx, &all))
	assert.Len(t, all, 25)
	cur, err = coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(5))
	require.NoError(t, err)
	require.True(t, cur.Next(ctx))
	id := cur.ID()
	require.NotZero(t, id)
	require.NoError(t, cur.Close(ctx))
	err = coll.Database().RunCommand(ctx, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "c"}}).Err()
	assert.Equal(t, int32(43), commandError(t, err).Code)
}

func TestInsertOrderedAndUnorderedWriteErrors(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	docs := []any{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}}
	_, err := coll.InsertMany(ctx, docs)
	var bwe mongo.BulkWriteException
	require.True(t, errors.As(err, &bwe), "%v", err)
	require.Len(t, bwe.WriteErrors, 1)
	assert.Equal(t, 1, bwe.WriteErrors[0].Index)
	assert.Equal(t, 11000, bwe.WriteErrors[0].Code)
	n, _ := coll.CountDocuments(ctx, bson.D{})
	assert.EqualValues(t, 1, n, "ordered insert stops at the first error")

	_, err = coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 3}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 4}}}, options.InsertMany().SetOrdered(false))
	require.True(t, errors.As(err, &bwe))
	require.Len(t, bwe.WriteErrors, 2)
	assert.Equal(t, 0, bwe.WriteErrors[0].Index)
	assert.Equal(t, 2, bwe.WriteErrors[1].Index)
	n, _ = coll.CountDocuments(ctx, bson.D{})
	assert.EqualValues(t, 3, n, "unordered insert continues past errors")
}

func TestDuplicateKeyErrorShape(t *testing.T) {
	coll := testenv.Database(t).Collection("people")
	_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@example.com"}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@example.com"}})
	require.True(t, mongo.IsDuplicateKeyError(err), "%v", err)
	var we mongo.WriteException
	require.True(t, errors.As(err, &we))
	msg := we.WriteErrors[0].Message
	assert.Contains(t, msg, "E11000 duplicate key error collection: "+coll.Database().Name()+".people index: email_1 dup key: { email: \"a@example.com\" }")
	var details struct {
		KeyPattern bson.M `bson:"keyPattern"`
		KeyValue   bson.M `bson:"keyValue"`
	}
	require.NoError(t, bson.Unmarshal(we.WriteErrors[0].Raw, &details))
	assert.Equal(t, bson.M{"email": int32(1)}, details.KeyPattern)
	assert.Equal(t, bson.M{"email": "a@example.com"}, details.KeyValue)
}

func TestUniqueIndexUnderConcurrentWriters(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	okCount := 0
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				_, err := coll.InsertOne(ctx, bson.D{{Key: "k", Value: k}, {Key: "w", Value: w}})
				if err == nil {
					mu.Lock()
					okCount++
					mu.Unlock()
				} else if !mongo.IsDuplicateKeyError(err) {
					t.Errorf("unexpected error: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 20, okCount, "each key inserted exactly once")
	n, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.EqualValues(t, 20, n)
}

func TestIndexCommands(t *testing.T) {
	db := testenv.Database(t)
	coll := db.Collection("c")
	names, err := coll.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: -1}}},
		{Keys: bson.D{{Key: "s", Value: 1}}, Options: options.Index().SetSparse(true)},
		{Keys: bson.D{{Key: "p", Value: 1}}, Options: options.Index().SetUnique(true).SetPartialFilterExpression(bson.D{{Key: "p", Value: bson.D{{Key: "$exists", Value: true}}}})},
		{Keys: bson.D{{Key: "t", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(3600)},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a_1_b_-1", "s_1", "p_1", "t_1"}, names)

	cur, err := coll.Indexes().List(ctx)
	require.NoError(t, err)
	var specs []bson.M
	require.NoError(t, cur.All(ctx, &specs))
	require.Len(t, specs, 5)
	assert.Equal(t, "_id_", specs[0]["name"])
	assert.Equal(t, true, specs[2]["sparse"])
	assert.Equal(t, true, specs[3]["unique"])
	assert.NotNil(t, specs[3]["partialFilterExpression"])
	assert.EqualValues(t, 3600, specs[4]["expireAfterSeconds"])

	// Creating an identical index is a no-op; a conflicting one with the same name fails.
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "s", Value: 1}}, Options: options.Index().SetSparse(true)})
	require.NoError(t, err)
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "s", Value: 1}}, Options: options.Index().SetName("s_1").SetUnique(true)})
	require.Error(t, err)
	assert.Equal(t, int32(85), commandError(t, err).Code)

	// Partial unique index: documents outside the filter never conflict.
	_, err = coll.InsertMany(ctx, []any{bson.D{{Key: "x", Value: 1}}, bson.D{{Key: "x", Value: 2}}, bson.D{{Key: "p", Value: 1}}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "p", Value: 1}})
	assert.True(t, mongo.IsDuplicateKeyError(err))

	require.NoError(t, coll.Indexes().DropOne(ctx, "s_1"))
	err = coll.Indexes().DropOne(ctx, "s_1")
	assert.Equal(t, int32(27), commandError(t, err).Code)
	err = coll.Indexes().DropOne(ctx, "_id_")
	require.Error(t, err)
	require.NoError(t, coll.Indexes().DropAll(ctx))
	cur, err = coll.Indexes().List(ctx)
	require.NoError(t, err)
	specs = nil
	require.NoError(t, cur.All(ctx, &specs))
	assert.Len(t, specs, 1)
}

func TestUniqueIndexOnExistingDuplicatesFails(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	_, err := coll.InsertMany(ctx, []any{bson.D{{Key: "a", Value: 1}}, bson.D{{Key: "a", Value: 1}}})
	require.NoError(t, err)
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true)})
	assert.Equal(t, int32(11000), commandError(t, err).Code)
}

func TestUniqueIndexTreatsMissingAsNull(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "b", Value: 1}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "b", Value: 2}})
	assert.True(t, mongo.IsDuplicateKeyError(err), "two documents without the field collide on null")

	sparse := coll.Database().Collection("sparse")
	_, err = sparse.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)})
	require.NoError(t, err)
	_, err = sparse.InsertMany(ctx, []any{bson.D{{Key: "b", Value: 1}}, bson.D{{Key: "b", Value: 2}}})
	assert.NoError(t, err, "a sparse unique index ignores documents without the field")
}

func TestCatalogCommands(t *testing.T) {
	db := testenv.Database(t)
	require.NoError(t, db.CreateCollection(ctx, "capped", options.CreateCollection().SetCapped(true).SetSizeInBytes(1<<20).SetMaxDocuments(3)))
	err := db.CreateCollection(ctx, "capped")
	assert.Equal(t, int32(48), commandError(t, err).Code)
	require.NoError(t, db.CreateCollection(ctx, "plain"))

	names, err := db.ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"capped", "plain"}, names)
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: "capped"}})
	require.NoError(t, err)
	require.Len(t, specs, 1)
	var opts bson.M
	require.NoError(t, bson.Unmarshal(specs[0].Options, &opts))
	assert.Equal(t, true, opts["capped"])

	// A capped collection keeps only its newest documents.
	capped := db.Collection("capped")
	for i := range 5 {
		_, err := capped.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
		require.NoError(t, err)
	}
	cur, err := capped.Find(ctx, bson.D{})
	require.NoError(t, err)
	var kept []bson.M
	require.NoError(t, cur.All(ctx, &kept))
	require.Len(t, kept, 3)
	assert.EqualValues(t, 2, kept[0]["_id"])

	admin := db.Client().Database("admin")
	require.NoError(t, admin.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: db.Name() + ".plain"}, {Key: "to", Value: db.Name() + ".renamed"}}).Err())
	names, err = db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: bson.D{{Key: "$regex", Value: "^re"}}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"renamed"}, names)

	require.NoError(t, db.Collection("renamed").Drop(ctx))
	require.NoError(t, db.Collection("never-existed").Drop(ctx))
	dbs, err := db.Client().ListDatabaseNames(ctx, bson.D{{Key: "name", Value: db.Name()}})
	require.NoError(t, err)
	assert.Equal(t, []string{db.Name()}, dbs)
	var stats bson.M
	require.NoError(t, db.RunCommand(ctx, bson.D{{Key: "dbStats", Value: 1}}).Decode(&stats))
	assert.EqualValues(t, 1, stats["collections"])
	require.NoError(t, db.Drop(ctx))
	dbs, err = db.Client().ListDatabaseNames(ctx, bson.D{{Key: "name", Value: db.Name()}})
	require.NoError(t, err)
	assert.Empty(t, dbs)
}

func TestSchemaValidation(t *testing.T) {
	db := testenv.Database(t)
	schema := bson.D{{Key: "$jsonSchema", Value: bson.D{
		{Key: "bsonType", Value: "object"},
		{Key: "required", Value: bson.A{"name"}},
		{Key: "properties", Value: bson.D{{Key: "name", Value: bson.D{{Key: "bsonType", Value: "string"}}}}},
	}}}
	require.NoError(t, db.CreateCollection(ctx, "v", options.CreateCollection().SetValidator(schema)))
	coll := db.Collection("v")
	_, err := coll.InsertOne(ctx, bson.D{{Key: "name", Value: "ok"}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "name", Value: 5}})
	var we mongo.WriteException
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Equal(t, 121, we.WriteErrors[0].Code)
	_, err = coll.UpdateOne(ctx, bson.D{}, bson.D{{Key: "$unset", Value: bson.D{{Key: "name", Value: ""}}}})
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Equal(t, 121, we.WriteErrors[0].Code)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "name", Value: 5}}, options.InsertOne().SetBypassDocumentValidation(true))
	assert.NoError(t, err)

	// collMod loosens the validator.
	require.NoError(t, db.RunCommand(ctx, bson.D{{Key: "collMod", Value: "v"}, {Key: "validationAction", Value: "warn"}}).Err())
	_, err = coll.InsertOne(ctx, bson.D{{Key: "name", Value: 7}})
	assert.NoError(t, err)
}

func TestUpsertAndFindAndModify(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "k"}, {Key: "a.b", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
	require.NoError(t, err)
	assert.Equal(t, "k", res.UpsertedID)
	var got bson.D
	require.NoError(t, coll.FindOne(ctx, bson.D{}).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: "k"}, {Key: "a", Value: bson.D{{Key: "b", Value: int32(1)}}}, {Key: "n", Value: int32(1)}}, got)

	var after bson.M
	err = coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "k"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 5}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After).SetProjection(bson.D{{Key: "n", Value: 1}})).Decode(&after)
	require.NoError(t, err)
	assert.Equal(t, bson.M{"_id": "k", "n": int32(6)}, after)

	var before bson.M
	require.NoError(t, coll.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: "k"}}).Decode(&before))
	assert.EqualValues(t, 6, before["n"])
	err = coll.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: "k"}}).Err()
	assert.ErrorIs(t, err, mongo.ErrNoDocuments)

	var inserted bson.M
	err = coll.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: 7}}, bson.D{{Key: "v", Value: "new"}},
		options.FindOneAndReplace().SetUpsert(true).SetReturnDocument(options.After)).Decode(&inserted)
	require.NoError(t, err)
	assert.Equal(t, bson.M{"_id": int32(7), "v": "new"}, inserted)
}

func TestReplaceKeepsIDAndRejectsChangingIt(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}})
	require.NoError(t, err)
	res, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "b", Value: 2}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.ModifiedCount)
	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}, {Key: "b", Value: 2}})
	var we mongo.WriteException
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Equal(t, 66, we.WriteErrors[0].Code)
	// Replacing with an identical document modifies nothing.
	res, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "b", Value: 2}})
	require.NoError(t, err)
	assert.EqualValues(t, 0, res.ModifiedCount)
	assert.EqualValues(t, 1, res.MatchedCount)
}

func TestDeleteOneAndMany(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	_, err := coll.InsertMany(ctx, []any{bson.D{{Key: "k", Value: 1}}, bson.D{{Key: "k", Value: 1}}, bson.D{{Key: "k", Value: 2}}})
	require.NoError(t, err)
	res, err := coll.DeleteOne(ctx, bson.D{{Key: "k", Value: 1}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.DeletedCount)
	res, err = coll.DeleteMany(ctx, bson.D{{Key: "k", Value: bson.D{{Key: "$gte", Value: 1}}}})
	require.NoError(t, err)
	assert.EqualValues(t, 2, res.DeletedCount)
}

func TestCountAndDistinct(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	_, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "tags", Value: bson.A{"a", "b"}}, {Key: "n", Value: 1}},
		bson.D{{Key: "tags", Value: "b"}, {Key: "n", Value: 2}},
		bson.D{{Key: "tags", Value: nil}, {Key: "n", Value: 3}},
		bson.D{{Key: "n", Value: 4}},
	})
	require.NoError(t, err)
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 1}}}})
	require.NoError(t, err)
	assert.EqualValues(t, 3, n)
	n, err = coll.EstimatedDocumentCount(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 4, n)
	res := coll.Distinct(ctx, "tags", bson.D{})
	var vals []any
	require.NoError(t, res.Decode(&vals))
	assert.ElementsMatch(t, []any{nil, "a", "b"}, vals)
}

func TestUnacknowledgedWrites(t *testing.T) {
	db := testenv.Database(t)
	coll := db.Collection("c", options.Collection().SetWriteConcern(writeconcern.Unacknowledged()))
	for i := range 10 {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
		require.NoError(t, err)
	}
	// A later acknowledged command on the same connection pool sees the writes.
	require.Eventually(t, func() bool {
		n, err := db.Collection("c").CountDocuments(ctx, bson.D{})
		return err == nil && n == 10
	}, 5e9, 1e7)
}

func TestExplainShowsIndexUse(t *testing.T) {
	db := testenv.Database(t)
	coll := db.Collection("c")
	for i := range 50 {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "k", Value: i}, {Key: "v", Value: fmt.Sprint(i)}})
		require.NoError(t, err)
	}
	_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}})
	require.NoError(t, err)
	type stats struct {
		NReturned         int `bson:"nReturned"`
		TotalDocsExamined int `bson:"totalDocsExamined"`
	}
	explain := func(filter bson.D) stats {
		var out struct {
			ExecutionStats stats `bson:"executionStats"`
		}
		require.NoError(t, db.RunCommand(ctx, bson.D{
			{Key: "explain", Value: bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: filter}}},
			{Key: "verbosity", Value: "executionStats"},
		}).Decode(&out))
		return out.ExecutionStats
	}
	s := explain(bson.D{{Key: "k", Value: bson.D{{Key: "$gte", Value: 10}, {Key: "$lt", Value: 15}}}})
	assert.Equal(t, 5, s.NReturned)
	assert.Equal(t, 5, s.TotalDocsExamined, "an index scan reads only the matching documents")
	s = explain(bson.D{{Key: "v", Value: "10"}})
	assert.Equal(t, 50, s.TotalDocsExamined, "an unindexed field needs a collection scan")
}

func TestTransactionsAreRejectedClearly(t *testing.T) {
	testenv.Require(t, testenv.EmbeddedOnly)
	db := testenv.Database(t)
	sess, err := db.Client().StartSession()
	require.NoError(t, err)
	defer sess.EndSession(ctx)
	_, err = sess.WithTransaction(ctx, func(sc context.Context) (any, error) {
		return db.Collection("c").InsertOne(sc, bson.D{{Key: "a", Value: 1}})
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "transactions")
}

func TestNaturalOrder(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	for _, id := range []int{3, 1, 2} {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}})
		require.NoError(t, err)
	}
	ids := func(dir int) []int32 {
		cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: 0}}}}, options.Find().SetSort(bson.D{{Key: "$natural", Value: dir}}))
		require.NoError(t, err)
		var out []int32
		for cur.Next(ctx) {
			out = append(out, cur.Current.Lookup("_id").Int32())
		}
		return out
	}
	assert.Equal(t, []int32{3, 1, 2}, ids(1), "insertion order, not _id order")
	assert.Equal(t, []int32{2, 1, 3}, ids(-1))
}

// TestConcurrentClients runs many clients doing mixed work at once: every single-document
// write is atomic, so concurrent $inc operations never lose an update.
func TestConcurrentClients(t *testing.T) {
	db := testenv.Database(t)
	coll := db.Collection("c")
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "counter"}, {Key: "n", Value: 0}})
	require.NoError(t, err)
	const workers, rounds = 12, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "counter"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
				assert.NoError(t, err)
				_, err = coll.InsertOne(ctx, bson.D{{Key: "w", Value: w}, {Key: "i", Value: i}})
				assert.NoError(t, err)
				_, err = coll.CountDocuments(ctx, bson.D{{Key: "w", Value: w}})
				assert.NoError(t, err)
				if i%5 == 0 {
					_, err = coll.DeleteOne(ctx, bson.D{{Key: "w", Value: w}, {Key: "i", Value: i}})
					assert.NoError(t, err)
				}
				cur, err := coll.Aggregate(ctx, mongo.Pipeline{{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$w"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}}})
				if assert.NoError(t, err) {
					_ = cur.Close(ctx)
				}
			}
		}()
	}
	wg.Wait()
	var counter struct{ N int }
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: "counter"}}).Decode(&counter))
	assert.Equal(t, workers*rounds, counter.N)
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "w", Value: bson.D{{Key: "$exists", Value: true}}}})
	require.NoError(t, err)
	assert.EqualValues(t, workers*rounds*4/5, n)
}

func TestFindAndModifyWithPipelineUpdate(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 2}})
	require.NoError(t, err)
	pipeline := mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "b", Value: bson.D{{Key: "$multiply", Value: bson.A{"$a", 10}}}}}}}}
	var got bson.M
	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, pipeline, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&got))
	assert.Equal(t, bson.M{"_id": int32(1), "a": int32(2), "b": int32(20)}, got)

	upsert := mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "n", Value: bson.D{{Key: "$add", Value: bson.A{bson.D{{Key: "$ifNull", Value: bson.A{"$n", 0}}}, 1}}}}}}}}
	got = nil
	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 9}}, upsert, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&got))
	assert.Equal(t, bson.M{"_id": int32(9), "n": int32(1)}, got)
}

func TestFindSortWithSkipAndLimit(t *testing.T) {
	coll := testenv.Database(t).Collection("c")
	for i := range 10 {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "k", Value: 9 - i}})
		require.NoError(t, err)
	}
	ids := func(opts *options.FindOptionsBuilder) []int32 {
		cur, err := coll.Find(ctx, bson.D{}, opts.SetSort(bson.D{{Key: "k", Value: 1}}))
		require.NoError(t, err)
		var out []int32
		for cur.Next(ctx) {
			out = append(out, cur.Current.Lookup("_id").Int32())
		}
		return out
	}
	assert.Equal(t, []int32{6, 5, 4, 3, 2, 1, 0}, ids(options.Find().SetSkip(3)), "skip without limit")
	assert.Equal(t, []int32{6, 5}, ids(options.Find().SetSkip(3).SetLimit(2)))
	assert.Equal(t, []int32{9, 8}, ids(options.Find().SetLimit(2)))
	assert.Empty(t, ids(options.Find().SetSkip(20)))
}
