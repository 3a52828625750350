package mongotest_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/mongotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var ctx = context.Background()

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	return client
}

func TestStartDefaults(t *testing.T) {
	srv, err := mongotest.Start(mongotest.Options{})
	require.NoError(t, err)
	defer srv.Close()
	assert.Equal(t, "rs0", srv.ReplicaSet())
	assert.Contains(t, srv.URI(), "127.0.0.1:")
	assert.Contains(t, srv.URI(), "replicaSet=rs0")
	client := connect(t, srv.URI())
	require.NoError(t, client.Ping(ctx, nil))
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close twice is harmless")
}

func TestStandalone(t *testing.T) {
	srv, err := mongotest.Start(mongotest.Options{Standalone: true})
	require.NoError(t, err)
	defer srv.Close()
	assert.NotContains(t, srv.URI(), "replicaSet")
	client := connect(t, srv.URI())
	var hello bson.M
	require.NoError(t, client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello))
	assert.Nil(t, hello["setName"])
	assert.Equal(t, true, hello["isWritablePrimary"])
}

func TestCustomReplicaSetAndAddress(t *testing.T) {
	srv, err := mongotest.Start(mongotest.Options{ReplicaSet: "other", Addr: "0.0.0.0:0"})
	require.NoError(t, err)
	defer srv.Close()
	assert.Contains(t, srv.URI(), "mongodb://127.0.0.1:")
	assert.Contains(t, srv.URI(), "replicaSet=other")
	require.NoError(t, connect(t, srv.URI()).Ping(ctx, nil))
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	srv := mongotest.NewServer(t)
	_, err := mongotest.Start(mongotest.Options{Addr: srv.Addr()})
	assert.Error(t, err)
}

func TestTTLIndexRemovesExpiredDocuments(t *testing.T) {
	srv, err := mongotest.Start(mongotest.Options{SweepInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	defer srv.Close()
	coll := connect(t, srv.URI()).Database("db").Collection("sessions")
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(60)})
	require.NoError(t, err)
	now := time.Now()
	_, err = coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "old"}, {Key: "at", Value: now.Add(-2 * time.Minute)}},
		bson.D{{Key: "_id", Value: "old-array"}, {Key: "at", Value: bson.A{now.Add(time.Hour), now.Add(-time.Hour)}}},
		bson.D{{Key: "_id", Value: "fresh"}, {Key: "at", Value: now}},
		bson.D{{Key: "_id", Value: "not-a-date"}, {Key: "at", Value: "yesterday"}},
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n, err := coll.CountDocuments(ctx, bson.D{})
		return err == nil && n == 2
	}, 5*time.Second, 10*time.Millisecond)
	ids, err := coll.Distinct(ctx, "_id", bson.D{}).Raw()
	require.NoError(t, err)
	assert.Contains(t, ids.String(), "fresh")
	assert.Contains(t, ids.String(), "not-a-date")
}

// rawMessage frames an OP_MSG with a single body section.
func rawMessage(body []byte, flags uint32) []byte {
	msg := make([]byte, 16, 21+len(body))
	msg = binary.LittleEndian.AppendUint32(msg, flags)
	msg = append(msg, 0)
	msg = append(msg, body...)
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.LittleEndian.PutUint32(msg[4:], 1)
	binary.LittleEndian.PutUint32(msg[12:], 2013)
	return msg
}

func withOpcode(msg []byte, op uint32) []byte {
	binary.LittleEndian.PutUint32(msg[12:], op)
	return msg
}

func TestMalformedMessagesCloseOnlyTheirConnection(t *testing.T) {
	srv := mongotest.NewServer(t)
	client := connect(t, srv.URI())
	require.NoError(t, client.Ping(ctx, nil))

	ping, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	bad := [][]byte{
		{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0}, // absurd length
		{3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0},             // shorter than a header
		rawMessage([]byte{5, 0, 0, 0}, 0),                                  // truncated body document
		rawMessage(ping, 1<<7),                                             // unknown required flag bit
		withOpcode(rawMessage(ping, 0), 0x42),                              // unknown opcode
	}
	for i, msg := range bad {
		conn, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		_, _ = conn.Write(msg)
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = io.ReadAll(conn)
		assert.NoError(t, err, "message %d: the server closes the connection rather than hanging", i)
		_ = conn.Close()
		require.NoError(t, client.Ping(ctx, nil), "other connections are unaffected after message %d", i)
	}

	// A well-formed command whose body is not valid BSON gets an error reply.
	conn, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer conn.Close()
	garbage := []byte{12, 0, 0, 0, 0x42, 'a', 0, 1, 0, 0, 0, 0}
	_, err = conn.Write(rawMessage(garbage, 0))
	require.NoError(t, err)
	reply := readReply(t, conn)
	assert.Equal(t, 0.0, reply["ok"])
	assert.EqualValues(t, 22, reply["code"])
}

func readReply(t *testing.T, conn net.Conn) bson.M {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	var hdr [16]byte
	_, err := io.ReadFull(conn, hdr[:])
	require.NoError(t, err)
	body := make([]byte, binary.LittleEndian.Uint32(hdr[:])-16)
	_, err = io.ReadFull(conn, body)
	require.NoError(t, err)
	var out bson.M
	require.NoError(t, bson.Unmarshal(body[5:], &out))
	return out
}

func TestLegacyQueryOnlyForHandshake(t *testing.T) {
	srv := mongotest.NewServer(t)
	query := func(ns string, cmd bson.D) bson.M {
		conn, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		defer conn.Close()
		doc, _ := bson.Marshal(cmd)
		msg := make([]byte, 16)
		msg = binary.LittleEndian.AppendUint32(msg, 0)
		msg = append(append(msg, ns...), 0)
		msg = binary.LittleEndian.AppendUint32(msg, 0)
		msg = binary.LittleEndian.AppendUint32(msg, 0xffffffff)
		msg = append(msg, doc...)
		binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
		binary.LittleEndian.PutUint32(msg[12:], 2004)
		_, err = conn.Write(msg)
		require.NoError(t, err)
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		var hdr [16]byte
		_, err = io.ReadFull(conn, hdr[:])
		require.NoError(t, err)
		require.Equal(t, uint32(1), binary.LittleEndian.Uint32(hdr[12:]), "answered with OP_REPLY")
		body := make([]byte, binary.LittleEndian.Uint32(hdr[:])-16)
		_, err = io.ReadFull(conn, body)
		require.NoError(t, err)
		var out bson.M
		require.NoError(t, bson.Unmarshal(body[20:], &out))
		return out
	}
	hello := query("admin.$cmd", bson.D{{Key: "isMaster", Value: 1}, {Key: "helloOk", Value: true}})
	assert.Equal(t, 1.0, hello["ok"])
	assert.Equal(t, true, hello["ismaster"])
	assert.Equal(t, true, hello["helloOk"])
	rejected := query("db.$cmd", bson.D{{Key: "find", Value: "c"}})
	assert.Equal(t, 0.0, rejected["ok"])
	assert.EqualValues(t, 352, rejected["code"])
}

func TestEveryBSONTypeRoundTrips(t *testing.T) {
	srv := mongotest.NewServer(t)
	coll := connect(t, srv.URI()).Database("db").Collection("types")
	oid := bson.NewObjectID()
	dec, _ := bson.ParseDecimal128("-1234.5678E-20")
	doc := bson.D{
		{Key: "_id", Value: oid},
		{Key: "double", Value: 3.5},
		{Key: "string", Value: "héllo"},
		{Key: "doc", Value: bson.D{{Key: "z", Value: int32(1)}, {Key: "a", Value: int32(2)}}},
		{Key: "array", Value: bson.A{int32(1), "two", bson.D{}}},
		{Key: "bin0", Value: bson.Binary{Subtype: 0, Data: []byte{1, 2, 3}}},
		{Key: "bin2", Value: bson.Binary{Subtype: 2, Data: []byte{4, 5}}},
		{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: make([]byte, 16)}},
		{Key: "bin128", Value: bson.Binary{Subtype: 0x80, Data: []byte{9}}},
		{Key: "undefined", Value: bson.Undefined{}},
		{Key: "oid", Value: oid},
		{Key: "bool", Value: true},
		{Key: "date", Value: bson.DateTime(-62135596800000)},
		{Key: "null", Value: nil},
		{Key: "regex", Value: bson.Regex{Pattern: "^a.*b$", Options: "imsx"}},
		{Key: "dbptr", Value: bson.DBPointer{DB: "db.c", Pointer: oid}},
		{Key: "js", Value: bson.JavaScript("function(){return 1}")},
		{Key: "symbol", Value: bson.Symbol("sym")},
		{Key: "jsscope", Value: bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "x", Value: int32(1)}}}},
		{Key: "int32", Value: int32(-2147483648)},
		{Key: "timestamp", Value: bson.Timestamp{T: 4294967295, I: 1}},
		{Key: "int64", Value: int64(9223372036854775807)},
		{Key: "decimal", Value: dec},
		{Key: "minkey", Value: bson.MinKey{}},
		{Key: "maxkey", Value: bson.MaxKey{}},
	}
	want, err := bson.Marshal(doc)
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, doc)
	require.NoError(t, err)
	got, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Raw()
	require.NoError(t, err)
	assert.Equal(t, []byte(want), []byte(got), "stored bytes come back unchanged")
}
