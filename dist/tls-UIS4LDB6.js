
import{a,b,c,d,e,f,g,h,i,j,k}from"./chunk-7OJFVUPJ.js";import"./chunk-KUPSEJ75.js";import"./chunk-MUJP27IL.js";export{i as assertCertificate,k as awaitServerVerdict,b as caBundle,h as certLine,f as handshake,a as loadCaPath,e as minVersionFailure,g as peerCertInfo,d as secureOptions,j as verificationFailure,c as warmTrust};
