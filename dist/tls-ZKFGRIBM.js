
import{$a as h,Ua as a,Va as b,Wa as c,Xa as d,Ya as e,Za as f,_a as g,ab as i,bb as j,cb as k}from"./chunk-G5HQM5H3.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{i as assertCertificate,k as awaitServerVerdict,b as caBundle,h as certLine,f as handshake,a as loadCaPath,e as minVersionFailure,g as peerCertInfo,d as secureOptions,j as verificationFailure,c as warmTrust};
