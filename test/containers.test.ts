/**
 * What each type declares about its container images, as init and the services input read
 * it: image references normalised, the image map derived from the types, credentials as
 * references (init) or values (services).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerOptions, containerPort, imageName, referenceEnv, typeOfImage, valueEnv } from '../src/config/containers.js';
import { discover } from '../src/config/discover.js';

test('image references: registry, library/, tag and digest dropped', () => {
  assert.equal(imageName('postgres'), 'postgres');
  assert.equal(imageName('docker.io/library/postgres:16-alpine'), 'postgres');
  assert.equal(imageName('bitnami/redis:7.2@sha256:abc'), 'bitnami/redis');
  assert.equal(imageName('localhost:5000/mongo'), 'localhost:5000/mongo');
  assert.equal(imageName('ghcr.io/org/app:1'), 'ghcr.io/org/app');
});

test('the image map comes from the types; a registry path falls back to its last part', async () => {
  const cases: [string, string | undefined][] = [
    ['postgres:16', 'postgres'],
    ['mariadb:11', 'mysql'],
    ['mysql:8', 'mysql'],
    ['valkey/valkey:8', 'redis'],
    ['rabbitmq:3-management', 'amqp'],
    ['mongo:7', 'mongodb'],
    ['memcached:1.6', 'memcache'],
    ['nats:2', 'nats'],
    ['eclipse-mosquitto:2', 'mqtt'],
    ['public.ecr.aws/docker/library/redis:7', 'redis'],
    ['lscr.io/linuxserver/openssh-server:latest', 'ssh'],
    ['osixia/openldap:1.5.0', 'ldap'],
    ['docker.io/bitnami/openldap:2.6', 'ldap'],
    ['atmoz/sftp', undefined],
    ['minio/minio:RELEASE.2025-04-22T22-12-26Z', 's3'],
    ['quay.io/minio/minio', 's3'],
    ['bitnami/minio:2025', 's3'],
    ['nginx:1', undefined],
  ];
  for (const [image, type] of cases) assert.equal((await typeOfImage(image))?.type, type, image);
});

test('credentials: references for init (never the literal), values for services', async () => {
  const pg = (await typeOfImage('postgres'))!;
  const compose = { POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'literal-pw', POSTGRES_DB: '${DB_NAME:-shop}' };
  assert.deepEqual(containerOptions(pg, referenceEnv(compose)), { username: '${POSTGRES_USER:-app}', password: '${POSTGRES_PASSWORD}', database: '${DB_NAME:-shop}' });
  assert.deepEqual(containerOptions(pg, referenceEnv({ POSTGRES_PASSWORD: '${PG_PW:-hunter2}' })), { username: 'postgres', password: '${PG_PW}', database: 'postgres' });
  assert.deepEqual(containerOptions(pg, valueEnv(compose)), { username: 'app', password: 'literal-pw', database: '${DB_NAME:-shop}' });
  const mysql = (await typeOfImage('mysql'))!;
  assert.deepEqual(containerOptions(mysql, valueEnv({ MYSQL_ROOT_PASSWORD: 'r00t', MYSQL_DATABASE: 'app' })), { username: 'root', password: 'r00t', database: 'app' });
  assert.deepEqual(containerOptions(mysql, valueEnv({ MARIADB_USER: 'u', MARIADB_PASSWORD: 'p', MARIADB_ROOT_PASSWORD: 'r' })), { username: 'u', password: 'p' });
  const mq = (await typeOfImage('rabbitmq'))!;
  assert.deepEqual(containerOptions(mq, valueEnv({})), { username: 'guest', password: 'guest', use_tls: false });
  const mongo = (await typeOfImage('mongo'))!;
  assert.deepEqual(containerOptions(mongo, valueEnv({})), {});
  assert.deepEqual(containerOptions(mongo, referenceEnv({ MONGO_INITDB_ROOT_USERNAME: 'root', MONGO_INITDB_ROOT_PASSWORD: 'x' })), { username: '${MONGO_INITDB_ROOT_USERNAME:-root}', password: '${MONGO_INITDB_ROOT_PASSWORD}', auth_source: 'admin' });
  const minio = (await typeOfImage('minio/minio'))!;
  assert.deepEqual(containerOptions(minio, referenceEnv({ MINIO_ROOT_USER: 'admin', MINIO_ROOT_PASSWORD: 'literal-pw' })), { access_key_id: '${MINIO_ROOT_USER:-admin}', secret_access_key: '${MINIO_ROOT_PASSWORD}' });
  assert.deepEqual(containerOptions(minio, valueEnv({})), { access_key_id: 'minioadmin', secret_access_key: 'minioadmin' });
  assert.deepEqual(containerOptions(minio, valueEnv({ MINIO_ROOT_USER: 'u', MINIO_ROOT_PASSWORD: 'p', MINIO_DEFAULT_BUCKETS: 'uploads:public,logs' })), { access_key_id: 'u', secret_access_key: 'p', bucket: 'uploads' });
});

test('the port inside the container: the type\'s, or the image\'s own (bitnami/openldap listens on 1389)', async () => {
  const ldap = (await typeOfImage('osixia/openldap'))!;
  assert.equal(containerPort(ldap, 'osixia/openldap:1.5.0'), 389);
  assert.equal(containerPort(ldap, 'docker.io/bitnami/openldap:2.6'), 1389);
  assert.equal(containerPort((await typeOfImage('lscr.io/linuxserver/openssh-server'))!, 'lscr.io/linuxserver/openssh-server'), 2222);
  assert.equal(containerPort((await typeOfImage('postgres'))!, 'postgres:16'), 5432);
  // the openldap images' admin bind, from their variables (the base DN from osixia's LDAP_DOMAIN)
  assert.deepEqual(containerOptions(ldap, valueEnv({ LDAP_DOMAIN: 'corp.example.com', LDAP_ADMIN_PASSWORD: 'pw' })), { bind_dn: 'cn=admin,dc=corp,dc=example,dc=com', password: 'pw', base_dn: 'dc=corp,dc=example,dc=com' });
  assert.deepEqual(containerOptions(ldap, referenceEnv({ LDAP_ROOT: 'dc=x,dc=org', LDAP_ADMIN_USERNAME: 'root', LDAP_ADMIN_PASSWORD: 'literal-pw' })), {
    bind_dn: 'cn=${LDAP_ADMIN_USERNAME:-root},${LDAP_ROOT:-dc=x,dc=org}',
    password: '${LDAP_ADMIN_PASSWORD}',
    base_dn: '${LDAP_ROOT:-dc=x,dc=org}',
  });
});

test('a file named .env is read as a dotenv file even when a line looks like YAML', async () => {
  const found = await discover('version: 2\nDATABASE_URL=postgres://u:p@h/db\n', 'deploy/.env.production');
  assert.equal(found.kind, 'dotenv');
  assert.deepEqual(found.proposals.map((p) => p.options.name), ['DATABASE_URL']);
});
