/* SPDX-License-Identifier: Apache-2.0 */
/* libpq, loaded only when the postgresql store is used (store-pg.c). Linked
 * directly, it pulled some twenty libraries (OpenSSL, GnuTLS, Kerberos,
 * LDAP, SASL...) into every daemon: megabytes of resident memory and their
 * relocations and constructors on every activation, for a store most hosts
 * never use. Include after <libpq-fe.h>: the PQ* calls then go through
 * pointers that pq_dl_open() fills. */
#pragma once

#include <libpq-fe.h>

#define PQ_DL_FUNCTIONS(X)                                                     \
        X(PQclear) X(PQconnectdbParams) X(PQconninfoFree) X(PQconninfoParse)   \
        X(PQconsumeInput) X(PQerrorMessage) X(PQexec) X(PQexecParams)          \
        X(PQfinish) X(PQfreemem) X(PQgetisnull) X(PQgetlength) X(PQgetvalue)   \
        X(PQnotifies) X(PQntuples) X(PQresultErrorField)                       \
        X(PQresultErrorMessage) X(PQresultStatus) X(PQsetNoticeProcessor)      \
        X(PQsetnonblocking) X(PQsocket) X(PQstatus) X(PQtransactionStatus)

#define PQ_DL_DECLARE(f) extern __typeof__(f) *pq_dl_##f;
PQ_DL_FUNCTIONS(PQ_DL_DECLARE)
#undef PQ_DL_DECLARE

/* Loads libpq and every function above, once: 0, or -EOPNOTSUPP with
 * *ret_error (may be NULL) saying what is missing. */
int pq_dl_open(char **ret_error);

#ifndef PQ_DL_IMPLEMENTATION
#define PQclear pq_dl_PQclear
#define PQconnectdbParams pq_dl_PQconnectdbParams
#define PQconninfoFree pq_dl_PQconninfoFree
#define PQconninfoParse pq_dl_PQconninfoParse
#define PQconsumeInput pq_dl_PQconsumeInput
#define PQerrorMessage pq_dl_PQerrorMessage
#define PQexec pq_dl_PQexec
#define PQexecParams pq_dl_PQexecParams
#define PQfinish pq_dl_PQfinish
#define PQfreemem pq_dl_PQfreemem
#define PQgetisnull pq_dl_PQgetisnull
#define PQgetlength pq_dl_PQgetlength
#define PQgetvalue pq_dl_PQgetvalue
#define PQnotifies pq_dl_PQnotifies
#define PQntuples pq_dl_PQntuples
#define PQresultErrorField pq_dl_PQresultErrorField
#define PQresultErrorMessage pq_dl_PQresultErrorMessage
#define PQresultStatus pq_dl_PQresultStatus
#define PQsetNoticeProcessor pq_dl_PQsetNoticeProcessor
#define PQsetnonblocking pq_dl_PQsetnonblocking
#define PQsocket pq_dl_PQsocket
#define PQstatus pq_dl_PQstatus
#define PQtransactionStatus pq_dl_PQtransactionStatus
#endif
