
import{Qa as a,Ra as b,Sa as c,Ta as d,Ua as e,Va as f,Wa as g,Xa as h,Ya as i,Za as j,_a as k}from"./chunk-4GX2WIM4.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{i as assertCertificate,k as awaitServerVerdict,b as caBundle,h as certLine,f as handshake,a as loadCaPath,e as minVersionFailure,g as peerCertInfo,d as secureOptions,j as verificationFailure,c as warmTrust};
